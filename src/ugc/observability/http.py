"""The outermost layer of every ugc HTTP service: request id, metrics, access log,
and a Sentry scope tagged with the request id. One middleware, for the hot path's sake."""

from __future__ import annotations

import logging
import time
from typing import Any

import sentry_sdk
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ugc.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS
from ugc.observability.request_id import HEADER, accept_or_make, request_id_var

log = logging.getLogger("ugc.access")
_HEADER = HEADER.encode()
_SLOW_S = 1.0


class ObservedApp:
    def __init__(self, app: ASGIApp, *, service: str, access_log: str = "errors") -> None:
        self.app = app
        self.service = service
        self.access_log = access_log
        # Labelled children, looked up once: `labels()` takes a lock every call.
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope["headers"]:
            if name == _HEADER:
                incoming = value.decode("latin-1")
                break
        request_id = accept_or_make(incoming)
        token = request_id_var.set(request_id)
        encoded = request_id.encode()
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (_HEADER, encoded)]
            await send(message)

        try:
            if sentry_sdk.is_initialized():
                with sentry_sdk.isolation_scope() as sentry_scope:
                    sentry_scope.set_tag("request_id", request_id)
                    await self.app(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            self._observe(scope, status, time.perf_counter() - started)
            request_id_var.reset(token)

    def _observe(self, scope: Scope, status: int, elapsed: float) -> None:
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
            log.info(
                "%s %s %d %.1f ms", scope["method"], scope["path"], status, elapsed * 1000,
                extra=_access_fields(scope, route, status, elapsed),
            )  # fmt: skip


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else scope.get("ugc.route", "unmatched")


def _access_fields(scope: Scope, route: str, status: int, elapsed: float) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "http.request.method": scope["method"],
        "url.path": scope["path"],
        "http.route": route,
        "http.response.status_code": status,
        "event.duration": int(elapsed * 1e9),
    }
    user = scope.get("ugc.user_id")
    if user:
        fields["user.id"] = user
    return fields
