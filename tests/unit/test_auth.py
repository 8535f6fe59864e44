from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ugc.auth import KeyMaterial, TokenVerifier, dev_secret, issue_token, load_keys
from ugc.problems import Problem
from ugc.settings import Settings

pytestmark = pytest.mark.unit


def test_a_good_token_gives_the_user_and_roles(base_settings: Settings, keys: KeyMaterial) -> None:
    token = issue_token(keys, subject="u-1", roles=["analyst"], ttl_s=60)

    principal = TokenVerifier(base_settings.jwt, keys).principal(f"Bearer {token}")

    assert principal.user_id == "u-1"
    assert principal.has_role("analyst")


def test_the_user_claim_is_configurable(base_settings: Settings, keys: KeyMaterial) -> None:
    settings = base_settings.replace(jwt_user_claim="login")
    token = jwt.encode({"login": "neo", "exp": int(time.time()) + 60}, keys.verify_key, "HS256")

    assert TokenVerifier(settings.jwt, keys).principal(f"Bearer {token}").user_id == "neo"


@pytest.mark.parametrize(
    ("claims", "phrase"),
    [
        ({"sub": "u", "exp": 1}, "expired"),
        ({"sub": "u"}, "'exp'"),
        ({"exp": 4_000_000_000}, "'sub'"),
        ({"sub": "u", "exp": 4_000_000_000, "roles": "admin"}, "list of strings"),
    ],
)
def test_bad_claims_are_401(
    base_settings: Settings, keys: KeyMaterial, claims: dict[str, object], phrase: str
) -> None:
    token = jwt.encode(claims, keys.verify_key, "HS256")

    with pytest.raises(Problem) as caught:
        TokenVerifier(base_settings.jwt, keys).principal(f"Bearer {token}")

    assert caught.value.status == 401
    assert phrase in caught.value.detail


def test_alg_none_is_refused(base_settings: Settings, keys: KeyMaterial) -> None:
    token = jwt.encode({"sub": "u", "exp": 4_000_000_000}, key=None, algorithm="none")

    with pytest.raises(Problem) as caught:
        TokenVerifier(base_settings.jwt, keys).principal(f"Bearer {token}")

    assert caught.value.status == 401


def test_rs256_with_the_auth_services_public_key(base_settings: Settings) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    settings = base_settings.replace(jwt_secret=None, jwt_public_key=public_pem)
    keys = load_keys(settings)

    token = issue_token(keys, subject="u-9", roles=[], ttl_s=60, private_key=private_pem)
    forged = jwt.encode(
        {"sub": "u-9", "exp": 4_000_000_000}, "a-guessed-secret-" + "g" * 32, "HS256"
    )

    verifier = TokenVerifier(settings.jwt, keys)
    assert verifier.principal(f"Bearer {token}").user_id == "u-9"
    with pytest.raises(Problem):
        verifier.principal(f"Bearer {forged}")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_cached_token_still_expires(base_settings: Settings, keys: KeyMaterial) -> None:
    clock = Clock(1_900_000_000.0)
    verifier = TokenVerifier(base_settings.replace(jwt_leeway_s=5).jwt, keys, clock=clock)
    token = jwt.encode({"sub": "u", "exp": 1_900_000_060}, keys.verify_key, "HS256")
    verifier.principal(f"Bearer {token}")  # verified, and remembered

    clock.now += 64  # past exp, within the leeway
    assert verifier.principal(f"Bearer {token}").user_id == "u"
    clock.now += 2  # past exp and the leeway
    with pytest.raises(Problem) as caught:
        verifier.principal(f"Bearer {token}")
    assert "expired" in caught.value.detail


@pytest.mark.parametrize(
    ("claims", "phrase"),
    [
        ({"sub": "u", "exp": 1_900_000_600, "nbf": 1_900_000_100}, "not valid yet"),
        ({"sub": "u", "exp": "tomorrow"}, "must be a number"),
        ({"sub": "u", "exp": True}, "must be a number"),
        ({"sub": "u", "exp": 10**400}, None),  # far future: valid, and no overflow
    ],
)
def test_token_times_are_read_against_the_verifiers_clock(
    base_settings: Settings, keys: KeyMaterial, claims: dict[str, object], phrase: str | None
) -> None:
    verifier = TokenVerifier(base_settings.jwt, keys, clock=Clock(1_900_000_000.0))
    token = jwt.encode(claims, keys.verify_key, "HS256")

    if phrase is None:
        assert verifier.principal(f"Bearer {token}").user_id == "u"
        return
    with pytest.raises(Problem) as caught:
        verifier.principal(f"Bearer {token}")
    assert caught.value.status == 401
    assert phrase in caught.value.detail


def test_the_dev_secret_is_made_once_and_kept(tmp_path: Path) -> None:
    first = dev_secret(tmp_path)

    assert dev_secret(tmp_path) == first
    assert len(first) >= 48
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o777 == 0o600
