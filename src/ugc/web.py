"""What every ugc HTTP app shares: problem details, request ids, auth, health."""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from prometheus_client import make_asgi_app
from pydantic import BaseModel
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from ugc import __version__
from ugc.auth import Principal, TokenVerifier
from ugc.observability.http import ObservedApp, RequestObserver
from ugc.problems import Problem, install_problem_handlers
from ugc.settings import Settings

ReadinessCheck = Callable[[], Awaitable[bool]]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def json_response(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def current_user(request: Request) -> Principal:
    verifier: TokenVerifier = request.app.state.verifier
    principal = verifier.principal(request.headers.get("authorization"))
    request.scope["ugc.user_id"] = principal.user_id  # for the access log
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


def health_router(checks: Mapping[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> Response:
        return json_response({"status": "ok"})

    @router.get("/readyz", summary="The process can reach what it depends on")
    async def readyz() -> Response:
        results = {name: await check() for name, check in checks.items()}
        if all(results.values()):
            return json_response({"status": "ready", "checks": results})
        down = ", ".join(name for name, ok in results.items() if not ok)
        raise Problem(
            503,
            f"Not ready: cannot reach {down}.",
            headers={"Retry-After": "2"},
            extra={"checks": results},
        )

    return router


@dataclass(frozen=True, slots=True)
class DirectRoute:
    """A hot path served by a plain ASGI handler. `exclusive`: the path has no other
    method, so the others get 405 here; otherwise they go on to the app."""

    template: str
    method: str
    handler: ASGIApp
    exclusive: bool = False

    def match(self, path: str) -> dict[str, str] | None:
        found = _compiled(self.template).fullmatch(path)
        return found.groupdict() if found else None


@functools.cache
def _compiled(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)))


class DirectRoutes:
    """Serves a few hot paths with plain ASGI handlers before the framework's router.

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
                scope["ugc.route"] = route.template
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

    It observes its own requests (id, metrics, access log, Sentry scope) with the
    observer of the service serving it: it knows its status and headers, so
    nothing has to watch what it sends.
    """

    log = logging.getLogger("ugc.direct")
    observer: RequestObserver  # set by the Service that serves it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        seen = self.observer.open(scope)
        status = 500
        try:
            with self.observer.isolated(seen):
                try:
                    status, body = await self.handle(scope, receive)
                    headers = [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ] if body else []  # fmt: skip
                except Problem as refused:
                    status, headers, body = _problem_parts(refused)
                except Exception as exc:
                    mapped = self.problem_for(exc)
                    if mapped is None:
                        self.log.exception(
                            "unhandled error on %s %s", scope["method"], scope["path"]
                        )
                        mapped = Problem(500, "An unexpected error occurred; it is logged.")
                    status, headers, body = _problem_parts(mapped)
            headers.append(seen.header)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        finally:
            self.observer.close(scope, seen, status)

    @abstractmethod
    async def handle(self, scope: Scope, receive: Receive) -> tuple[int, bytes]:
        """The status and JSON body; raise Problem for a 4xx/5xx."""

    def problem_for(self, exc: Exception) -> Problem | None:
        """A Problem for an exception this endpoint knows; None for a 500."""
        del exc
        return None


def _problem_parts(problem: Problem) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    response = problem.to_response()
    return response.status_code, list(response.raw_headers), bytes(response.body)


def request_headers(scope: Scope, wanted: frozenset[bytes]) -> dict[bytes, str]:
    return {name: value.decode("latin-1") for name, value in scope["headers"] if name in wanted}


def add_openapi_paths(
    app: FastAPI, paths: Mapping[str, dict[str, Any]], models: Sequence[type[BaseModel]]
) -> None:
    """Publish direct routes in the app's OpenAPI document, with the models they use."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes,
            )  # fmt: skip
            components = schema.setdefault("components", {})
            defs = components.setdefault("schemas", {})
            for model in models:
                model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                defs.update(model_schema.pop("$defs", {}))
                defs[model.__name__] = model_schema
            defs["Problem"] = _PROBLEM_SCHEMA
            components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
            schema["paths"] = {**paths, **schema.get("paths", {})}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


_PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}


def new_api(
    settings: Settings,
    *,
    name: str,
    description: str,
    lifespan: Lifespan,
    verifier: TokenVerifier,
) -> FastAPI:
    """A ugc FastAPI app: its docs under /docs/<name>, problem details for errors,
    the settings and the token verifier in its state."""
    app = FastAPI(
        title=f"ugc {name} API",
        version=__version__,
        description=description,
        lifespan=lifespan,
        docs_url=f"/docs/{name}",
        openapi_url=f"/openapi/{name}.json",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.verifier = verifier
    install_problem_handlers(app)
    return app


class Service:
    """One HTTP service as served: its direct routes (/metrics and hot paths),
    then its app; every request observed (id, metrics, access log, Sentry).

    The direct routes sit in front of the framework's middleware stack, which
    costs more per request than the hot path does.
    """

    def __init__(
        self,
        api: FastAPI,
        direct_routes: Sequence[DirectRoute] = (),
        *,
        checks: Mapping[str, ReadinessCheck] | None = None,
        name: str = "ugc",
    ) -> None:
        self.api = api
        self.checks = dict(checks or {})
        settings = getattr(api.state, "settings", None)
        access_log = settings.access_log if settings is not None else "errors"
        observer = RequestObserver(service=name, access_log=access_log)
        metrics = DirectRoute("/metrics", "GET", make_asgi_app())
        self.direct_routes = [_observed(r, observer) for r in (metrics, *direct_routes)]
        # What a server calls: one layer less on every request than `self`.
        self.asgi: ASGIApp = DirectRoutes(ObservedApp(api, observer), self.direct_routes, observer)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.asgi(scope, receive, send)

    def lifespan(self) -> AbstractAsyncContextManager[Any]:
        """Opens and closes the service's clients (the app's lifespan)."""
        return self.api.router.lifespan_context(self.api)

    def handles(self, scope: Scope) -> bool:
        if any(route.match(scope["path"]) is not None for route in self.direct_routes):
            return True
        return any(route.matches(scope)[0] is not Match.NONE for route in self.api.router.routes)


def _observed(route: DirectRoute, observer: RequestObserver) -> DirectRoute:
    """The route with its requests observed: a direct endpoint does it itself."""
    if isinstance(route.handler, DirectEndpoint):
        route.handler.observer = observer
        return route
    return dataclasses.replace(route, handler=ObservedApp(route.handler, observer))
