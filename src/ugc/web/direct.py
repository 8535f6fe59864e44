"""Hot paths served by plain ASGI handlers in front of the framework's router.

The framework's middleware stack, routing and dependency machinery cost more
per request than the platform's hottest paths do themselves; a `DirectRoute`
skips them. Its endpoint observes its own requests and answers its errors
through the service's problem registry, as the framework routes do.
"""

from __future__ import annotations

import functools
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from ugc.auth import Principal
from ugc.observability.http import ObservedApp, RequestObserver
from ugc.observability.scope import EXTRA_HEADERS, ROUTE, WHOLE_RESPONSE
from ugc.problems import PROBLEM_JSON, Problem
from ugc.web.dependencies import identify, two_credentials
from ugc.web.kit import ServiceKit
from ugc.web.openapi import Operation

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class DirectRoute:
    """A hot path served by a plain ASGI handler. `exclusive`: the path has no other
    method, so the others get 405 here; otherwise they go on to the app.
    `operation` is its entry in the service's OpenAPI document."""

    template: str
    method: str
    handler: ASGIApp
    operation: Operation | None = None
    exclusive: bool = False

    def match(self, path: str) -> dict[str, str] | None:
        found = _compiled(self.template).fullmatch(path)
        return found.groupdict() if found else None


@functools.cache
def _compiled(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)))


class DirectRoutes:
    """Serves the direct routes, and hands every other request to the app.

    A route answers a request for its path with its method, or with 405 when it
    is exclusive. Fixed paths are found by a lookup and come first; templates
    are tried in order.
    """

    def __init__(
        self, app: ASGIApp, routes: Sequence[DirectRoute], observer: RequestObserver
    ) -> None:
        self.app = app
        self.routes = list(routes)
        self.observer = observer
        self._fixed = {r.template: r for r in reversed(self.routes) if "{" not in r.template}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route, params = self._find(scope["path"], scope["method"])
            if route is not None:
                scope[ROUTE] = route.template
                if scope["method"] == route.method:
                    scope["path_params"] = params
                    await route.handler(scope, receive, send)
                    return
                allow = {"Allow": route.method}
                problem = Problem(405, f"Use {route.method} on {route.template}.", headers=allow)
                await ObservedApp(problem.to_response(), self.observer)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _find(self, path: str, method: str) -> tuple[DirectRoute | None, dict[str, str]]:
        fixed = self._fixed.get(path)
        if fixed is not None and (method == fixed.method or fixed.exclusive):
            return fixed, {}
        for route in self.routes:
            params = route.match(path)
            if params is not None and (method == route.method or route.exclusive):
                return route, params
        return None, {}


class DirectEndpoint(ABC):
    """A plain ASGI handler that answers JSON, or problem details for any failure.

    It observes its own requests (id, metrics, access log, Sentry scope) with its
    service's observer: it knows its status and headers, so nothing has to watch
    what it sends.
    """

    __slots__ = ("kit",)

    def __init__(self, kit: ServiceKit) -> None:
        self.kit = kit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        observer = self.kit.observer
        seen = observer.open(scope)
        status = 500
        try:
            with observer.isolated(seen):
                try:
                    status, body = await self.handle(scope, receive)
                    headers = _json_headers(status, body)
                except Exception as exc:  # noqa: BLE001 - every failure is answered
                    where = f"{scope['method']} {scope['path']}"
                    problem = self.kit.problems.answer(exc, where)
                    status, body = problem.status, problem.body()
                    headers = problem_headers(problem, body)
            headers.append(seen.header)
            headers.extend(scope.get(EXTRA_HEADERS, ()))
            whole = scope.get(WHOLE_RESPONSE)
            if whole is None or not whole.respond(status, headers, body):
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
        finally:
            observer.close(scope, seen, status)

    @abstractmethod
    async def handle(self, scope: Scope, receive: Receive) -> tuple[int, bytes]:
        """The status and JSON body; raise for a 4xx/5xx."""

    def principal(self, scope: Scope, authorization: str | None) -> Principal:
        return identify(scope, self.kit.verifier, authorization)


def _json_headers(status: int, body: bytes) -> Headers:
    if body:
        return [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    return [] if status in (204, 304) else [(b"content-length", b"0")]


def problem_headers(problem: Problem, body: bytes) -> Headers:
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    headers += [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in problem.headers.items()
    ]
    return headers


def request_headers(scope: Scope, wanted: frozenset[bytes]) -> dict[bytes, str]:
    """The wanted headers by name; two Authorization headers are refused, as on
    every route (`web.dependencies.authorization_of`)."""
    pairs = [(name, value) for name, value in scope["headers"] if name in wanted]
    found = {name: value.decode("latin-1") for name, value in pairs}
    if len(found) < len(pairs) and sum(name == b"authorization" for name, _ in pairs) > 1:
        raise two_credentials()
    return found
