"""One HTTP service as served, and how every service is assembled.

`assemble` is the skeleton all three APIs share: a FastAPI app with its docs
under /docs/<name>, errors answered through the service's problem registry,
/healthz and /readyz, the service's routers, and its direct routes (each with
its OpenAPI operation) in front.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from fastapi import APIRouter, FastAPI
from prometheus_client import make_asgi_app
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from ugc import __version__
from ugc.observability.http import ObservedApp
from ugc.web.cors import Cors
from ugc.web.direct import DirectEndpoint, DirectRoute, DirectRoutes
from ugc.web.docs import offline_docs
from ugc.web.health import ReadinessCheck, health_router
from ugc.web.kit import ServiceKit
from ugc.web.limits import CredentialsBeforeBody, RouteBodyLimit
from ugc.web.openapi import Operation, publish


class Service:
    """Its direct routes (/metrics and hot paths), then its app; every request
    observed (id, metrics, access log, Sentry)."""

    def __init__(
        self,
        kit: ServiceKit,
        api: FastAPI,
        direct_routes: Sequence[DirectRoute] = (),
        *,
        checks: Mapping[str, ReadinessCheck] | None = None,
    ) -> None:
        self.kit = kit
        self.api = api
        self.checks = dict(checks or {})
        metrics = DirectRoute("/metrics", "GET", make_asgi_app())
        self.direct_routes = [_observed(r, kit) for r in (metrics, *direct_routes)]
        observer = kit.observer
        checked = CredentialsBeforeBody(api, kit.verifier, kit.problems)
        framework = RouteBodyLimit(checked, kit.settings.http.max_request_body_bytes, kit.problems)
        routed = DirectRoutes(ObservedApp(framework, observer), self.direct_routes, observer)
        # What a server calls: one layer less on every request than `self`.
        self.asgi: ASGIApp = Cors(routed, kit.cors, observer)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.asgi(scope, receive, send)

    def handles(self, scope: Scope) -> bool:
        if any(route.match(scope["path"]) is not None for route in self.direct_routes):
            return True
        return any(route.matches(scope)[0] is not Match.NONE for route in self.api.router.routes)


def _observed(route: DirectRoute, kit: ServiceKit) -> DirectRoute:
    """The route with its requests observed: a direct endpoint does it itself."""
    if isinstance(route.handler, DirectEndpoint):
        return route
    return dataclasses.replace(route, handler=ObservedApp(route.handler, kit.observer))


def assemble(
    kit: ServiceKit,
    *,
    description: str,
    routers: Sequence[APIRouter] = (),
    direct_routes: Sequence[DirectRoute] = (),
    checks: Mapping[str, ReadinessCheck] | None = None,
    state: object = None,
    docs: bool = True,
) -> Service:
    """A service: its app (state, routers, health, problems) and its direct routes;
    its OpenAPI document and docs under /openapi/<name>.json and /docs/<name>."""
    app = FastAPI(
        title=f"ugc {kit.name} API",
        version=__version__,
        description=description,
        docs_url=None,  # served offline below
        openapi_url=f"/openapi/{kit.name}.json" if docs else None,
        redoc_url=None,
    )
    if docs:
        offline_docs(app, kit.name)
    app.state.kit = kit
    app.state.service = state  # read back typed, with `web.dependencies.state_of`
    kit.problems.install(app)
    app.include_router(health_router(checks or {}, kit.problems))
    for router in routers:
        app.include_router(router)
    operations: dict[str, list[Operation]] = {}
    for route in direct_routes:
        if route.operation is not None:
            operations.setdefault(route.template, []).append(route.operation)
    publish(app, operations)
    return Service(kit, app, direct_routes, checks=checks)
