from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ugc.auth import KeyMaterial, TokenVerifier, dev_secret, issue_token, load_keys
from ugc.errors import Unauthenticated
from ugc.settings import Settings

pytestmark = pytest.mark.unit

U1 = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
U9 = "9b2d1f0e-3c4a-4e6f-8a7b-1c2d3e4f5a6b"


def test_a_good_token_gives_the_user_and_roles(base_settings: Settings, keys: KeyMaterial) -> None:
    token = issue_token(keys, subject=U1, roles=["analyst"], ttl_s=60)

    principal = TokenVerifier(base_settings.jwt, keys).principal(f"Bearer {token}")

    assert principal.user_id == U1
    assert principal.has_role("analyst")


def test_the_user_claim_is_configurable(base_settings: Settings, keys: KeyMaterial) -> None:
    settings = base_settings.replace(jwt_user_claim="login", jwt_subject_format="slug")
    token = jwt.encode({"login": "neo", "exp": int(time.time()) + 60}, keys.verify_key, "HS256")

    assert TokenVerifier(settings.jwt, keys).principal(f"Bearer {token}").user_id == "neo"


@pytest.mark.parametrize(
    ("claims", "phrase"),
    [
        ({"sub": U1, "exp": 1}, "expired"),
        ({"sub": U1}, "'exp'"),
        ({"exp": 4_000_000_000}, "'sub'"),
        ({"sub": U1, "exp": 4_000_000_000, "roles": "admin"}, "list of strings"),
    ],
)
def test_bad_claims_are_401(
    base_settings: Settings, keys: KeyMaterial, claims: dict[str, object], phrase: str
) -> None:
    token = jwt.encode(claims, keys.verify_key, "HS256")

    with pytest.raises(Unauthenticated) as caught:
        TokenVerifier(base_settings.jwt, keys).principal(f"Bearer {token}")
    assert phrase in str(caught.value)


def test_alg_none_is_refused(base_settings: Settings, keys: KeyMaterial) -> None:
    token = jwt.encode({"sub": U1, "exp": 4_000_000_000}, key=None, algorithm="none")

    with pytest.raises(Unauthenticated):
        TokenVerifier(base_settings.jwt, keys).principal(f"Bearer {token}")


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

    token = issue_token(keys, subject=U9, roles=[], ttl_s=60, private_key=private_pem)
    forged = jwt.encode({"sub": U9, "exp": 4_000_000_000}, "a-guessed-secret-" + "g" * 32, "HS256")

    verifier = TokenVerifier(settings.jwt, keys)
    assert verifier.principal(f"Bearer {token}").user_id == U9
    with pytest.raises(Unauthenticated):
        verifier.principal(f"Bearer {forged}")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_cached_token_still_expires(base_settings: Settings, keys: KeyMaterial) -> None:
    clock = Clock(1_900_000_000.0)
    verifier = TokenVerifier(base_settings.replace(jwt_leeway_s=5).jwt, keys, clock=clock)
    token = jwt.encode({"sub": U1, "exp": 1_900_000_060}, keys.verify_key, "HS256")
    verifier.principal(f"Bearer {token}")  # verified, and remembered

    clock.now += 64  # past exp, within the leeway
    assert verifier.principal(f"Bearer {token}").user_id == U1
    clock.now += 2  # past exp and the leeway
    with pytest.raises(Unauthenticated) as caught:
        verifier.principal(f"Bearer {token}")
    assert "expired" in str(caught.value)


@pytest.mark.parametrize(
    ("claims", "phrase"),
    [
        ({"sub": U1, "exp": 1_900_000_600, "nbf": 1_900_000_100}, "not valid yet"),
        ({"sub": U1, "exp": "tomorrow"}, "must be a whole number"),
        ({"sub": U1, "exp": True}, "must be a whole number"),
        ({"sub": U1, "exp": float("inf")}, "must be a whole number"),
        ({"sub": U1, "exp": float("nan")}, "must be a whole number"),
        ({"sub": U1, "exp": 1_900_000_600.5}, "must be a whole number"),
        ({"sub": U1, "exp": 1_900_000_600, "nbf": float("-inf")}, "'nbf' claim must be"),
        ({"sub": U1, "exp": 1_900_000_600, "iat": float("inf")}, "'iat' claim must be"),
        ({"sub": U1, "exp": 10**400}, None),  # far future: valid, and no overflow
    ],
)
def test_token_times_are_read_against_the_verifiers_clock(
    base_settings: Settings, keys: KeyMaterial, claims: dict[str, object], phrase: str | None
) -> None:
    verifier = TokenVerifier(base_settings.jwt, keys, clock=Clock(1_900_000_000.0))
    token = jwt.encode(claims, keys.verify_key, "HS256")

    if phrase is None:
        assert verifier.principal(f"Bearer {token}").user_id == U1
        return
    with pytest.raises(Unauthenticated) as caught:
        verifier.principal(f"Bearer {token}")
    assert phrase in str(caught.value)


def test_the_dev_secret_is_made_once_and_kept(tmp_path: Path) -> None:
    first = dev_secret(tmp_path)

    assert dev_secret(tmp_path) == first
    assert len(first) >= 48
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("subject", "fmt", "user"),
    [
        ("3FA85F64-5717-4562-B3FC-2C963F66AFA6", "uuid", "3fa85f64-5717-4562-b3fc-2c963f66afa6"),
        ("3fa85f64-5717-4562-b3fc-2c963f66afa6", "uuid", "3fa85f64-5717-4562-b3fc-2c963f66afa6"),
        ("{3fa85f64-5717-4562-b3fc-2c963f66afa6}", "uuid", None),
        ("3fa85f6457174562b3fc2c963f66afa6", "uuid", None),
        ("3fa85f64-5717-4562-b3fc-2c963f66afa6\n", "uuid", None),
        ("victim\\x41abc", "uuid", None),
        ("neo@matrix.example", "slug", "neo@matrix.example"),
        ("victim\\x41abc", "slug", None),
        ("tab\there", "slug", None),
        ("-leading-dash", "slug", None),
        ("x" * 129, "slug", None),
    ],
)
def test_a_subject_has_one_spelling_or_is_refused(
    base_settings: Settings, keys: KeyMaterial, subject: str, fmt: str, user: str | None
) -> None:
    verifier = TokenVerifier(base_settings.replace(jwt_subject_format=fmt).jwt, keys)
    token = jwt.encode({"sub": subject, "exp": 4_000_000_000}, keys.verify_key, "HS256")

    if user is not None:
        assert verifier.principal(f"Bearer {token}").user_id == user
        return
    with pytest.raises(Unauthenticated) as caught:
        verifier.principal(f"Bearer {token}")
    assert "'sub' claim must be" in str(caught.value)
