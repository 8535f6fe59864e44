"""Bearer JWT -> Principal. The user id always comes from the token, never the body.

Verifies HS256 with a shared secret or RS256 with the auth service's public key.
Every failure is a 401 with a reason; a token can never cause a 500.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from ugc.problems import Problem
from ugc.settings import Settings

DEV_SECRET_FILE = "jwt-secret"  # noqa: S105 - a file name, not a secret
ANALYST_ROLE = "analyst"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    roles: frozenset[str]

    def has_role(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """What verifies tokens, and (HS256 only) what signs them for `ugc token`."""

    algorithm: str
    verify_key: str
    signing_key: str | None


def load_keys(settings: Settings) -> KeyMaterial:
    if settings.jwt_public_key:
        return KeyMaterial("RS256", _pem(settings.jwt_public_key), None)
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value()
        return KeyMaterial("HS256", secret, secret)
    secret = dev_secret(settings.data_dir)
    return KeyMaterial("HS256", secret, secret)


def dev_secret(data_dir: Path) -> str:
    """A random HS256 secret kept in the data directory, made on first use."""
    path = data_dir / DEV_SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(secret)
    tmp.chmod(0o600)
    tmp.replace(path)
    return path.read_text().strip()


def _pem(value: str) -> str:
    if value.lstrip().startswith("-----BEGIN"):
        return value
    return Path(value).read_text()


def unauthorized(reason: str) -> Problem:
    header = f'Bearer error="invalid_token", error_description="{reason}"'
    return Problem(401, reason, headers={"WWW-Authenticate": header})


class TokenVerifier:
    """Checks tokens, remembering recent good ones so a hot path pays the crypto once."""

    def __init__(self, settings: Settings, keys: KeyMaterial, *, cache_size: int = 10_000) -> None:
        self._keys = keys
        self._user_claim = settings.jwt_user_claim
        self._roles_claim = settings.jwt_roles_claim
        self._audience = settings.jwt_audience
        self._issuer = settings.jwt_issuer
        self._leeway = settings.jwt_leeway_s
        self._cache: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._cache_size = cache_size

    def principal(self, authorization: str | None) -> Principal:
        token = _bearer_token(authorization)
        cached = self._cache.get(token)
        if cached is not None:
            principal, expires = cached
            if time.time() < expires + self._leeway:
                return principal
            del self._cache[token]
        principal, expires = self._verify(token)
        self._cache[token] = (principal, expires)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._keys.verify_key,
                algorithms=[self._keys.algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp"], "verify_aud": self._audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("The access token has expired; sign in again.") from None
        except jwt.InvalidSignatureError:
            raise unauthorized("The access token signature is not valid.") from None
        except jwt.MissingRequiredClaimError as exc:
            raise unauthorized(f"The access token has no {exc.claim!r} claim.") from None
        except jwt.InvalidTokenError as exc:
            raise unauthorized(f"The access token is not valid: {exc}.") from None
        user_id = claims.get(self._user_claim)
        if not isinstance(user_id, str) or not user_id or len(user_id) > 128:
            raise unauthorized(f"The access token has no usable {self._user_claim!r} claim.")
        roles = claims.get(self._roles_claim) or []
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise unauthorized(f"The {self._roles_claim!r} claim must be a list of strings.")
        return Principal(user_id, frozenset(roles)), float(claims["exp"])


def _bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise unauthorized("Send an access token: Authorization: Bearer <token>.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("The Authorization header must be 'Bearer <token>'.")
    return token.strip()


def issue_token(
    keys: KeyMaterial,
    *,
    subject: str,
    roles: list[str],
    ttl_s: int,
    user_claim: str = "sub",
    roles_claim: str = "roles",
    private_key: str | None = None,
) -> str:
    """A signed token for trying the API by hand (`ugc token`) and for tests."""
    now = int(time.time())
    claims = {user_claim: subject, roles_claim: roles, "iat": now, "exp": now + ttl_s}
    if keys.algorithm == "RS256":
        if private_key is None:
            raise ValueError("RS256 is configured: pass the private key to sign with")
        return jwt.encode(claims, _pem(private_key), algorithm="RS256")
    assert keys.signing_key is not None
    return jwt.encode(claims, keys.signing_key, algorithm="HS256")
