"""/healthz (the process is alive) and /readyz (it can reach what it depends on)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from starlette.responses import Response

from ugc.problems import ProblemRegistry
from ugc.web.dependencies import json_response
from ugc.web.openapi import problems as documented

log = logging.getLogger(__name__)

ReadinessCheck = Callable[[], Awaitable[bool]]
CHECK_TIMEOUT_S = 2.0


def health_router(checks: Mapping[str, ReadinessCheck], problems: ProblemRegistry) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> Response:
        return json_response({"status": "ok"})

    @router.get(
        "/readyz",
        summary="The process can reach what it depends on",
        responses=documented(s503="Not ready: `checks` names the part that cannot be reached."),
    )
    async def readyz() -> Response:
        results = {name: await _passes(name, check) for name, check in checks.items()}
        if all(results.values()):
            return json_response({"status": "ready", "checks": results})
        down = ", ".join(name for name, ok in results.items() if not ok)
        raise problems.unavailable(f"Not ready: cannot reach {down}.", checks=results)

    return router


async def _passes(name: str, check: ReadinessCheck) -> bool:
    """A check that fails, raises or hangs is a failed check, never an error."""
    try:
        return await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
    except Exception:
        log.warning("readiness check %s failed", name, exc_info=True)
        return False
