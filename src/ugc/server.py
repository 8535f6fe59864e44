"""Running ASGI apps under uvicorn: one process each in production, together in dev."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

import uvicorn
from fastapi import FastAPI
from starlette.routing import Match
from starlette.types import Receive, Scope, Send


class CombinedApp:
    """Several apps behind one port: a request goes to the first app with a matching
    route (else the first app, for its 404); each app keeps its lifespan and state."""

    def __init__(self, apps: Sequence[FastAPI]) -> None:
        self.apps = list(apps)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        await self._pick(scope)(scope, receive, send)

    def _pick(self, scope: Scope) -> FastAPI:
        for app in self.apps:
            if any(route.matches(scope)[0] is not Match.NONE for route in app.router.routes):
                return app
        return self.apps[0]

    @asynccontextmanager
    async def _running(self) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for app in self.apps:
                await stack.enter_async_context(app.router.lifespan_context(app))
            yield

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        started = False
        try:
            async with self._running():
                started = True
                await send({"type": "lifespan.startup.complete"})
                await receive()  # lifespan.shutdown
        except Exception as exc:
            phase = "shutdown" if started else "startup"
            await send({"type": f"lifespan.{phase}.failed", "message": repr(exc)})
            raise
        await send({"type": "lifespan.shutdown.complete"})


def serve(app: FastAPI | CombinedApp, *, host: str, port: int) -> None:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    # Server.run installs uvloop; it re-raises the signal it shut down for, by
    # when the shutdown is done.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run()
