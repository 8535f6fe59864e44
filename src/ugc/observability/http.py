"""What every ugc HTTP service records of each request: its id (`X-Request-Id`,
kept in a context variable for logs and Kafka headers), requests and latency by
route and status, an access log line, and a Sentry scope tagged with the id.

`RequestObserver` does it for a service. Direct endpoints call it themselves
(`ugc.web.DirectEndpoint`), since they know their status and headers; any
other ASGI app is wrapped in `ObservedApp`, which watches what it sends.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sentry_sdk
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ugc.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS
from ugc.observability.repeats import Repeats
from ugc.observability.request_id import HEADER, accept_or_make, request_id_var
from ugc.observability.scope import EXTRA_HEADERS, ROUTE, USER_ID

log = logging.getLogger("ugc.access")
_HEADER = HEADER.encode()
_SLOW_S = 1.0
# Headers a layer in front (CORS) leaves in the scope for whatever answers.


@dataclass(slots=True)
class Seen:
    """A request being observed: its id, the response header carrying it, since when."""

    request_id: str
    header: tuple[bytes, bytes]
    token: Any  # to restore the request id context variable
    started: float


class RequestObserver:
    def __init__(self, *, service: str, access_log: str = "errors") -> None:
        self.service = service
        self.access_log = access_log
        # Labelled children, looked up once: `labels()` takes a lock every call.
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[str, Any] = {}
        # 429s are logged once per client and route an interval, with a count.
        self._refusals = Repeats()
        # Sentry is set up before any service is built (`ugc.cli` does it first).
        self._sentry = sentry_sdk.is_initialized()

    def open(self, scope: Scope) -> Seen:
        incoming = None
        for name, value in scope["headers"]:
            if name == _HEADER:
                incoming = value.decode("latin-1")
                break
        request_id = accept_or_make(incoming)
        token = request_id_var.set(request_id)
        return Seen(request_id, (_HEADER, request_id.encode()), token, time.perf_counter())

    def isolated(self, seen: Seen) -> contextlib.AbstractContextManager[object]:
        """A Sentry scope of the request's own, tagged with its id (nothing without Sentry)."""
        return _tagged_scope(seen.request_id) if self._sentry else _NOTHING

    def close(self, scope: Scope, seen: Seen, status: int) -> None:
        """Count the request and log it (the log line still sees its id), then forget it."""
        try:
            self._record(scope, status, time.perf_counter() - seen.started)
        finally:
            request_id_var.reset(seen.token)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        route = _route(scope)
        key = (scope["method"], route, status)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = HTTP_REQUESTS.labels(
                self.service, scope["method"], route, str(status)
            )
        counter.inc()
        timer = self._timers.get(route)
        if timer is None:
            timer = self._timers[route] = HTTP_LATENCY.labels(self.service, route)
        timer.observe(elapsed)
        if self.access_log == "all" or (
            self.access_log == "errors" and (status >= 400 or elapsed > _SLOW_S)
        ):
            fields = _access_fields(scope, route, status, elapsed)
            if status == 429:
                left_out = self._refusals.take((_client(scope), route))
                if left_out is None:
                    return  # counted in the metrics; its line would say nothing new
                fields["event.left_out"] = left_out
            log.info(
                "%s %s %d %.1f ms", scope["method"], scope["path"], status, elapsed * 1000,
                extra=fields,
            )  # fmt: skip


_NOTHING = contextlib.nullcontext()


@contextlib.contextmanager
def _tagged_scope(request_id: str) -> Iterator[object]:
    with sentry_sdk.isolation_scope() as scope:
        scope.set_tag("request_id", request_id)
        yield scope


class ObservedApp:
    """Any ASGI app, observed: the status is read from what it sends, and the
    request id header added to it."""

    def __init__(self, app: ASGIApp, observer: RequestObserver) -> None:
        self.app = app
        self.observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = self.observer.open(scope)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra = scope.get(EXTRA_HEADERS, ())
                message["headers"] = [*message.get("headers", []), seen.header, *extra]
            await send(message)

        try:
            with self.observer.isolated(seen):
                await self.app(scope, receive, send_with_id)
        finally:
            self.observer.close(scope, seen, status)


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else scope.get(ROUTE, "unmatched")


def _client(scope: Scope) -> str:
    """Who to thin a client's lines by: its user when known, else its address."""
    user = scope.get(USER_ID)
    if user:
        return str(user)
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _access_fields(scope: Scope, route: str, status: int, elapsed: float) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "http.request.method": scope["method"],
        "url.path": scope["path"],
        "http.route": route,
        "http.response.status_code": status,
        "event.duration": int(elapsed * 1e9),
    }
    user = scope.get(USER_ID)
    if user:
        fields["user.id"] = user
    return fields
