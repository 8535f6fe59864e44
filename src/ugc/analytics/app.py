"""The analytics API as a service, and (for `ugc dev`) the loader beside it.

chdb lets one process open its directory, so locally this service owns the
embedded ClickHouse and runs the loader as a task next to the reads; in
production the loader is its own process (`ugc etl`) and both talk to a server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from starlette.responses import Response

from ugc.analytics.api import MAX_LIMIT, router
from ugc.analytics.queries import AnalyticsQueries
from ugc.analytics.rankings import TopFilmsRankings
from ugc.auth import TokenVerifier, load_keys
from ugc.events.loader import Loader
from ugc.events.migrations import migrate
from ugc.events.sinks import ChdbSink, ClickHouseHttpSink, EventSink, SinkError
from ugc.problems import Problem
from ugc.settings import Settings
from ugc.web import Service, health_router, new_api

log = logging.getLogger(__name__)


def open_sink(settings: Settings) -> EventSink:
    if settings.clickhouse_url:
        return ClickHouseHttpSink(settings.clickhouse_url)
    return ChdbSink(settings.data_dir / "clickhouse")


def create_analytics_service(
    settings: Settings, *, with_loader: bool = False, sink: EventSink | None = None
) -> Service:
    """The analytics API; `with_loader` also runs the loader in this process (dev).

    Without a `sink` it opens (and closes) the configured one; chdb allows one
    directory per process, so tests pass the one they share.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warehouse = open_sink(settings) if sink is None else sink
        try:
            await migrate(warehouse, settings)
            app.state.queries = queries = AnalyticsQueries(warehouse, settings.clickhouse_database)
            async with (
                _loader_beside(settings, warehouse, enabled=with_loader) as loader,
                _rankings_kept(settings, queries) as rankings,
            ):
                app.state.loader = loader
                app.state.rankings = rankings
                yield
        finally:
            if sink is None:
                await warehouse.close()

    app = new_api(
        settings,
        name="analytics",
        description="Viewing analytics from ClickHouse.",
        lifespan=lifespan,
        verifier=TokenVerifier(settings, load_keys(settings)),
    )
    app.add_exception_handler(SinkError, _sink_problem)

    async def clickhouse_ready() -> bool:
        try:
            await app.state.queries.ping()
        except SinkError:
            return False
        return True

    checks = {"clickhouse": clickhouse_ready}
    app.include_router(health_router(checks))
    app.include_router(router)
    return Service(app, checks=checks, name="analytics")


@asynccontextmanager
async def _loader_beside(
    settings: Settings, sink: EventSink, *, enabled: bool
) -> AsyncIterator[Loader | None]:
    if not enabled:
        yield None
        return
    loader = Loader(settings, sink)
    task = asyncio.create_task(loader.run(), name="loader")
    try:
        yield loader
    finally:
        loader.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 30)


@asynccontextmanager
async def _rankings_kept(
    settings: Settings, queries: AnalyticsQueries
) -> AsyncIterator[TopFilmsRankings | None]:
    if not settings.analytics_rankings_refresh_s or not settings.analytics_rankings_days:
        yield None
        return
    rankings = TopFilmsRankings(
        queries, windows_days=settings.analytics_rankings_days, keep=MAX_LIMIT
    )
    task = asyncio.create_task(
        rankings.keep_fresh(settings.analytics_rankings_refresh_s), name="top-films"
    )
    try:
        yield rankings
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _sink_problem(_: Request, exc: Exception) -> Response:
    log.error("analytics query failed: %s", exc)
    return Problem(
        503, "Analytics are unavailable right now; retry shortly.", headers={"Retry-After": "5"}
    ).to_response()
