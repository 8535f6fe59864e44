"""Bearer JWT -> Principal. The user id always comes from the token, never the body.

Verifies HS256 with a shared secret or RS256 with the auth service's public key.
Every failure is a 401 with a reason; a token can never cause a 500.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jwt

from ugc.errors import Forbidden, Unauthenticated
from ugc.settings import JwtSettings, Settings

DEV_SECRET_FILE = "jwt-secret"  # noqa: S105 - a file name, not a secret
ANALYST_ROLE = "analyst"  # reads any viewer's analytics
MODERATOR_ROLE = "moderator"  # decides on reported reviews
PRIVACY_ROLE = "privacy"  # exports and erases any viewer's data
ROLES = (ANALYST_ROLE, MODERATOR_ROLE, PRIVACY_ROLE)  # a viewer needs none

SubjectFormat = Literal["uuid", "slug"]
_SUBJECTS: dict[str, tuple[re.Pattern[str], str]] = {
    "uuid": (re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"), "a UUID"),
    "slug": (
        re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:+-]{0,127}"),
        "1-128 letters, digits and . _ - @ : +",
    ),
}


def user_id_of(value: object, subject_format: SubjectFormat) -> str | None:
    """The user id in its one spelling (UUIDs in lower case), or None when `value`
    is not one. Every id a store sees went through here, so no spelling of an id
    can name another user."""
    if not isinstance(value, str):
        return None
    pattern, _ = _SUBJECTS[subject_format]
    if pattern.fullmatch(value) is None:
        return None
    return value.lower() if subject_format == "uuid" else value


def subject_rule(subject_format: SubjectFormat) -> str:
    """What a user id must be, in words."""
    return _SUBJECTS[subject_format][1]


class AccountErased(Forbidden):
    """The account was erased at its owner's request: its tokens, whenever issued,
    are valid signatures of a person the platform no longer holds anything of."""

    def __init__(self) -> None:
        super().__init__(
            "This account was erased at its owner's request; its tokens are no longer "
            "accepted. Sign up again to start a new account."
        )


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
    """The configured key, or (without one) the development secret in the data directory."""
    jwt_settings = settings.jwt
    if jwt_settings.public_key:
        return KeyMaterial("RS256", _pem(jwt_settings.public_key), None)
    if jwt_settings.secret is not None:
        secret = jwt_settings.secret.get_secret_value()
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


class TokenVerifier:
    """Checks tokens, remembering recent good ones so a hot path pays the crypto once.

    Time comes from `clock` (seconds since the epoch), so tests move it instead
    of waiting for a token to expire.
    """

    def __init__(
        self,
        settings: JwtSettings,
        keys: KeyMaterial,
        *,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._user_claim = settings.user_claim
        self._roles_claim = settings.roles_claim
        self._audience = settings.audience
        self._issuer = settings.issuer
        self._leeway = settings.leeway_s
        self._subjects = settings.subject_format
        self._clock = clock
        self._cache: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._cache_size = cache_size

    @property
    def subject_format(self) -> SubjectFormat:
        return self._subjects

    def principal(self, authorization: str | None) -> Principal:
        return self.verify(_bearer_token(authorization))

    def verify(self, token: str) -> Principal:
        """The principal of a bare token (no `Bearer `), or a 401 Problem."""
        cached = self._cache.get(token)
        if cached is not None:
            principal, expires = cached
            if self._clock() < expires + self._leeway:
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
                # The times are checked below, against this verifier's clock.
                options={
                    "require": ["exp"],
                    "verify_aud": self._audience is not None,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidSignatureError:
            raise Unauthenticated("The access token signature is not valid.") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"The access token has no {exc.claim!r} claim.") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"The access token is not valid: {exc}.") from None
        expires = self._check_times(claims)
        claim = self._user_claim
        if claim not in claims:
            raise Unauthenticated(f"The access token has no {claim!r} claim.")
        user_id = user_id_of(claims[claim], self._subjects)
        if user_id is None:
            rule = subject_rule(self._subjects)
            raise Unauthenticated(f"The access token's {claim!r} claim must be {rule}.")
        roles = claims.get(self._roles_claim) or []
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Unauthenticated(f"The {self._roles_claim!r} claim must be a list of strings.")
        return Principal(user_id, frozenset(roles)), expires

    def _check_times(self, claims: dict[str, Any]) -> float:
        """`exp` (required), `nbf` and `iat` (when present): whole seconds since the
        epoch (a fraction, a NaN or an infinity is refused, as is a boolean);
        `exp` and `nbf` checked with the leeway. The expiry."""
        now = self._clock()
        times: dict[str, float] = {}
        for name in ("exp", "nbf", "iat"):
            if name not in claims:
                continue
            value = claims[name]
            if isinstance(value, bool) or not isinstance(value, int):
                raise Unauthenticated(
                    f"The access token's {name!r} claim must be a whole number of seconds."
                )
            times[name] = float(min(value, _FAR_FUTURE))  # an integer too big for a float
        expires = times["exp"]
        if now >= expires + self._leeway:
            raise Unauthenticated("The access token has expired; sign in again.")
        if "nbf" in times and now < times["nbf"] - self._leeway:
            raise Unauthenticated("The access token is not valid yet.")
        return expires


_FAR_FUTURE = 2.0**53


def _bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("Send an access token: Authorization: Bearer <token>.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("The Authorization header must be 'Bearer <token>'.")
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
    now: float | None = None,
) -> str:
    """A signed token for trying the API by hand (`ugc token`) and for tests."""
    now = int(time.time() if now is None else now)
    claims = {user_claim: subject, roles_claim: roles, "iat": now, "exp": now + ttl_s}
    if keys.algorithm == "RS256":
        if private_key is None:
            raise ValueError("RS256 is configured: pass the private key to sign with")
        return jwt.encode(claims, _pem(private_key), algorithm="RS256")
    assert keys.signing_key is not None
    return jwt.encode(claims, keys.signing_key, algorithm="HS256")
