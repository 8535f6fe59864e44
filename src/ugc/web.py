"""What every ugc HTTP app shares: problem details, request ids, auth, health."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from prometheus_client import make_asgi_app
from pydantic import BaseModel
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from ugc.auth import Principal, TokenVerifier
from ugc.observability.http import ObservedApp
from ugc.problems import Problem, install_problem_handlers

ReadinessCheck = Callable[[], Awaitable[bool]]


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


class DirectRoutes:
    """Serves a few hot paths with plain ASGI handlers before the framework's router."""

    def __init__(self, app: ASGIApp, routes: Mapping[str, tuple[str, ASGIApp]]) -> None:
        self.app = app
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        method, handler = route
        scope["ugc.route"] = scope["path"]
        if scope["method"] != method:
            problem = Problem(405, f"Use {method} on {scope['path']}.", headers={"Allow": method})
            await problem.to_response()(scope, receive, send)
            return
        await handler(scope, receive, send)


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


def prepare_app(app: FastAPI, verifier: TokenVerifier) -> None:
    app.state.verifier = verifier
    install_problem_handlers(app)


class Service:
    """One HTTP service as served: request id, metrics and access log, then its
    direct routes (/metrics and hot paths), then its app.

    The direct routes sit in front of the framework's middleware stack, which
    costs more per request than the hot path does.
    """

    def __init__(
        self,
        api: FastAPI,
        direct_routes: Mapping[str, tuple[str, ASGIApp]] | None = None,
        *,
        checks: Mapping[str, ReadinessCheck] | None = None,
        name: str = "ugc",
    ) -> None:
        self.api = api
        self.direct_routes = {"/metrics": ("GET", make_asgi_app()), **(direct_routes or {})}
        self.checks = dict(checks or {})
        settings = getattr(api.state, "settings", None)
        access_log = settings.access_log if settings is not None else "errors"
        self._asgi = ObservedApp(
            DirectRoutes(api, self.direct_routes), service=name, access_log=access_log
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)

    def lifespan(self) -> AbstractAsyncContextManager[Any]:
        """Opens and closes the service's clients (the app's lifespan)."""
        return self.api.router.lifespan_context(self.api)

    def handles(self, scope: Scope) -> bool:
        if scope["path"] in self.direct_routes:
            return True
        return any(route.matches(scope)[0] is not Match.NONE for route in self.api.router.routes)
