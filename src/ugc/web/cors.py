"""CORS: which browser origins may call an API, and the headers that tell them.

A web player runs on the cinema's origin and calls the APIs on another, so every
API answers preflights (OPTIONS with Access-Control-Request-Method) and marks
its answers for allowed origins. The policy is decided once per origin and its
headers kept, so a request with an Origin costs a lookup; the headers ride in
the scope (`EXTRA_HEADERS`) to whatever answers, direct endpoint or framework app.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from ugc.observability.http import ObservedApp, RequestObserver
from ugc.observability.scope import EXTRA_HEADERS, ROUTE
from ugc.problems import Problem
from ugc.settings import Settings

Header = tuple[bytes, bytes]
LOCAL_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*")
ALLOWED_HEADERS = "authorization, content-type, content-encoding, x-request-id"
EXPOSED_HEADERS = "X-Request-Id, Retry-After"
METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
_VARY = (b"vary", b"Origin")
_REMEMBERED = 4096
_PATTERN = re.compile(
    r"(?P<scheme>https?)://(?P<host>(?:\*\.)?[A-Za-z0-9.-]+)(?::(?P<port>\d+|\*))?"
)


def origin_pattern(origin: str) -> re.Pattern[str]:
    """`https://cinema.example`, `https://*.cinema.example` (any subdomain, not the
    domain itself), `http://localhost:*` (any port) as a regular expression."""
    found = _PATTERN.fullmatch(origin.strip())
    if found is None:
        raise ValueError(
            f"{origin!r} is not an origin: scheme://host[:port], `*.` before the host "
            "or `*` as the port for patterns"
        )
    host = found["host"].lower()
    host_re = re.escape(host)
    if host.startswith("*."):
        host_re = r"(?:[a-z0-9-]+\.)+" + re.escape(host[2:])
    port = found["port"]
    port_re = "" if port is None else (r":\d{1,5}" if port == "*" else ":" + port)
    return re.compile(f"{found['scheme']}://{host_re}{port_re}", re.IGNORECASE)


class CorsPolicy:
    def __init__(self, origins: Sequence[str], *, max_age_s: int) -> None:
        self._patterns = [origin_pattern(o) for o in origins]
        self._max_age = str(max_age_s).encode()
        self._answers: dict[bytes, list[Header]] = {}

    @classmethod
    def for_settings(cls, settings: Settings) -> CorsPolicy:
        """UGC_CORS_ORIGINS; unset, none in production and local pages' otherwise."""
        origins = settings.http.cors_origins
        if origins is None:
            origins = [] if settings.environment == "production" else list(LOCAL_ORIGINS)
        return cls(origins, max_age_s=settings.http.cors_max_age_s)

    def allows(self, origin: bytes) -> bool:
        text = origin.decode("latin-1")
        return any(p.fullmatch(text) for p in self._patterns)

    def answer_headers(self, origin: bytes) -> list[Header]:
        """What an answer to a request from `origin` carries (only Vary if refused)."""
        found = self._answers.get(origin)
        if found is None:
            found = [_VARY]
            if self.allows(origin):
                found = [
                    (b"access-control-allow-origin", origin),
                    (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
                    _VARY,
                ]
            if len(self._answers) >= _REMEMBERED:
                self._answers.clear()  # origins are few; a flood of made-up ones is not
            self._answers[origin] = found
        return found

    def preflight_headers(self, origin: bytes) -> list[Header]:
        return [
            (b"access-control-allow-origin", origin),
            (b"access-control-allow-methods", METHODS.encode()),
            (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
            (b"access-control-max-age", self._max_age),
            _VARY,
        ]


class Cors:
    """In front of a service: preflights answered here (204, or 403 for an origin
    not allowed); other requests go on with their CORS headers in the scope."""

    def __init__(self, app: ASGIApp, policy: CorsPolicy, observer: RequestObserver) -> None:
        self.app = app
        self.policy = policy
        self.observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            origin = None
            preflight = False
            for name, value in scope["headers"]:
                if name == b"origin":
                    origin = value
                elif name == b"access-control-request-method":
                    preflight = scope["method"] == "OPTIONS"
            if origin is not None:
                if preflight:
                    await self._preflight(scope, receive, send, origin)
                    return
                scope[EXTRA_HEADERS] = self.policy.answer_headers(origin)
        await self.app(scope, receive, send)

    async def _preflight(self, scope: Scope, receive: Receive, send: Send, origin: bytes) -> None:
        scope.setdefault(ROUTE, "(preflight)")
        if not self.policy.allows(origin):
            shown = origin.decode("latin-1")
            refused = Problem(
                403, f"The origin {shown} may not call this API; ask for it to be allowed."
            )
            scope[EXTRA_HEADERS] = [_VARY]
            await ObservedApp(refused.to_response(), self.observer)(scope, receive, send)
            return

        async def answer(scope: Scope, receive: Receive, send: Send) -> None:
            headers = self.policy.preflight_headers(origin)
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})

        await ObservedApp(answer, self.observer)(scope, receive, send)
