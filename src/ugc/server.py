"""Running ASGI services under uvicorn: one process each in production, together in dev."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from ugc.web import Service, health_router


class CombinedServices:
    """Several services behind one port: a request goes to the first service with a
    matching route (else the first, for its 404); each keeps its lifespan and state."""

    def __init__(self, services: Sequence[Service]) -> None:
        # Health answers for all of them together, so it comes first.
        health = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
        health.include_router(health_router({k: v for s in services for k, v in s.checks.items()}))
        self.services = [Service(health, name="health"), *services]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _run_lifespan(self._running(), receive, send)
            return
        service = next((s for s in self.services if s.handles(scope)), self.services[0])
        await service.asgi(scope, receive, send)

    @asynccontextmanager
    async def _running(self) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for service in self.services:
                await stack.enter_async_context(service.lifespan())
            yield


class SingleService:
    """One service as an ASGI app whose lifespan is the service's."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self._asgi = service.asgi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _run_lifespan(self.service.lifespan(), receive, send)
            return
        await self._asgi(scope, receive, send)


async def _run_lifespan(
    running: contextlib.AbstractAsyncContextManager[Any], receive: Receive, send: Send
) -> None:
    await receive()  # lifespan.startup
    started = False
    try:
        async with running:
            started = True
            _settle_garbage_collector()
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
    except Exception as exc:
        phase = "shutdown" if started else "startup"
        await send({"type": f"lifespan.{phase}.failed", "message": repr(exc)})
        raise
    await send({"type": "lifespan.shutdown.complete"})


def _settle_garbage_collector() -> None:
    """Keep the collector off the long-lived startup objects (modules, apps, clients).

    Without this every full collection walks them all, and a request that
    happens to trigger one pays for it.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(_GC_THRESHOLD, 20, 50)


_GC_THRESHOLD = 20_000


def serve(app: ASGIApp, *, host: str, port: int) -> None:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
        # Nothing here reads the client address, so X-Forwarded-* need not be
        # parsed on every request; and the server does not announce itself.
        proxy_headers=False,
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    # Server.run installs uvloop; it re-raises the signal it shut down for, by
    # when the shutdown is done.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run()
