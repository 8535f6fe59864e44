"""What every ugc HTTP app shares: problem details, request ids, auth, health."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.responses import Response

from ugc.auth import Principal, TokenVerifier
from ugc.observability.request_id import RequestIdMiddleware
from ugc.problems import Problem, install_problem_handlers

ReadinessCheck = Callable[[], Awaitable[bool]]


def json_response(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def current_user(request: Request) -> Principal:
    verifier: TokenVerifier = request.app.state.verifier
    return verifier.principal(request.headers.get("authorization"))


CurrentUser = Annotated[Principal, Depends(current_user)]


def health_router(checks: dict[str, ReadinessCheck]) -> APIRouter:
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


def prepare_app(app: FastAPI, verifier: TokenVerifier) -> None:
    app.state.verifier = verifier
    install_problem_handlers(app)
    app.add_middleware(RequestIdMiddleware)
