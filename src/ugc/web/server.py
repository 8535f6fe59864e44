"""Running services under uvicorn: one process each in production, together in dev.

A `Host` is the ASGI app the server runs. Its lifespan opens the services (and
with them their clients: producer, MongoDB client, ClickHouse sink) and closes
them at shutdown; several services share one port, a request going to the first
with a matching route, with health answering for all of them together.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from ugc.problems import Problem
from ugc.settings import HttpSettings, Settings
from ugc.web.anonymous import AnonymousBudget
from ugc.web.cors import CorsPolicy
from ugc.web.kit import ServiceKit
from ugc.web.raw_answers import raw_problem
from ugc.web.service import Service, assemble
from ugc.web.uvicorn_protocol import GuardedHttpProtocol, check_uvicorn

ServicesOpener = Callable[[], AbstractAsyncContextManager[Sequence[Service]]]


class Host:
    def __init__(self, open_services: ServicesOpener, settings: Settings) -> None:
        self._open = open_services
        self._settings = settings
        not_started = Problem(503, "The service is starting; retry shortly.")
        self._asgi: ASGIApp = not_started.to_response()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _run_lifespan(self._running(), receive, send)
            return
        await self._asgi(scope, receive, send)

    @asynccontextmanager
    async def _running(self) -> AsyncIterator[None]:
        async with self._open() as services:
            if len(services) == 1:
                self._asgi = services[0].asgi
            else:
                self._asgi = CombinedServices(services, self._settings)
            yield


class CombinedServices:
    """Several services behind one port; what no service has goes to the first,
    the platform's health, for its 404."""

    def __init__(self, services: Sequence[Service], settings: Settings) -> None:
        checks = {name: check for s in services for name, check in s.checks.items()}
        health = assemble(
            ServiceKit.of(settings, "platform"),
            description="The platform's health.",
            checks=checks,
            docs=False,
        )
        self.services = [health, *services]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        service = next((s for s in self.services if s.handles(scope)), self.services[0])
        await service.asgi(scope, receive, send)


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


def server_config(
    app: ASGIApp, settings: HttpSettings, *, cors: CorsPolicy | None = None
) -> uvicorn.Config:
    """uvicorn as every ugc process runs it: uvloop, httptools with ugc's guards."""
    check_uvicorn()
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http=guarded(
            max_header_bytes=settings.max_header_bytes,
            read_timeout_s=settings.read_timeout_s,
            max_in_flight=settings.max_in_flight,
            retry_after_s=settings.retry_after_s,
            cors=cors,
            anonymous_per_client=settings.max_anonymous_per_client,
        ),
        timeout_keep_alive=max(1, round(settings.keep_alive_s)),
        access_log=False,
        log_config=None,
        # Nothing here reads the client address, so X-Forwarded-* need not be
        # parsed on every request; and the server does not announce itself.
        proxy_headers=False,
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )


def serve(app: ASGIApp, settings: HttpSettings, *, cors: CorsPolicy | None = None) -> None:
    config = server_config(app, settings, cors=cors)
    # Server.run installs uvloop; it re-raises the signal it shut down for, by
    # when the shutdown is done.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run()


def guarded(
    *,
    max_header_bytes: int,
    read_timeout_s: float,
    max_in_flight: int,
    retry_after_s: int,
    cors: CorsPolicy | None,
    anonymous_per_client: int,
) -> type[GuardedHttpProtocol]:
    """The protocol class with these limits, for uvicorn's `http=`."""
    busy = raw_problem(
        503,
        b"Service Unavailable",
        "This server is at capacity; retry after the time in Retry-After.",
        headers=b"retry-after: %d\r\n" % retry_after_s,
    )
    return type(
        "GuardedHttpProtocol",
        (GuardedHttpProtocol,),
        {
            "max_header_bytes": max_header_bytes,
            "read_timeout_s": read_timeout_s,
            "max_in_flight": max_in_flight,
            "busy": busy,
            "cors": cors,
            # Shared by the server's connections: one budget of strangers per process.
            "anonymous": AnonymousBudget(per_client=anonymous_per_client),
        },
    )
