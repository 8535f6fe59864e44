"""The analytics API as a service: `open_analytics_service(settings)`.

Locally chdb allows one process to open its directory, so `ugc dev` opens the
embedded sink once and hands it to this service and to the loader beside it; in
production the loader is its own process (`ugc etl`) and both talk to a server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ugc.analytics.api import MAX_LIMIT, AnalyticsState, router
from ugc.analytics.queries import AnalyticsQueries, AnalyticsUnavailable
from ugc.analytics.rankings import TopFilmsRankings
from ugc.settings import AnalyticsSettings, Settings
from ugc.warehouse.connect import open_sink
from ugc.warehouse.migrations import migrate
from ugc.warehouse.sink import EventSink
from ugc.web.kit import ServiceKit
from ugc.web.service import Service, assemble

log = logging.getLogger(__name__)


def analytics_service(
    settings: Settings, queries: AnalyticsQueries, rankings: TopFilmsRankings | None
) -> Service:
    kit = ServiceKit.of(settings, "analytics")

    async def clickhouse_ready() -> bool:
        try:
            await queries.ping()
        except AnalyticsUnavailable:
            return False
        return True

    return assemble(
        kit,
        description="Viewing analytics from ClickHouse.",
        routers=[router],
        checks={"clickhouse": clickhouse_ready},
        state=AnalyticsState(queries, rankings),
    )


@asynccontextmanager
async def open_analytics_service(
    settings: Settings, *, sink: EventSink | None = None
) -> AsyncIterator[Service]:
    """The analytics API on `sink` (migrated first), or on the configured warehouse,
    opened for as long as the block runs; the kept rankings refresh meanwhile."""
    if sink is None:
        async with (
            open_sink(settings.clickhouse, settings.data_dir) as opened,
            open_analytics_service(settings, sink=opened) as service,
        ):
            yield service
        return
    await migrate(sink, settings.clickhouse)
    queries = AnalyticsQueries(sink, settings.clickhouse.database)
    async with rankings_kept(settings.analytics, queries) as rankings:
        yield analytics_service(settings, queries, rankings)


@asynccontextmanager
async def rankings_kept(
    settings: AnalyticsSettings, queries: AnalyticsQueries
) -> AsyncIterator[TopFilmsRankings | None]:
    if not settings.rankings_refresh_s or not settings.rankings_days:
        yield None
        return
    rankings = TopFilmsRankings(queries, windows_days=settings.rankings_days, keep=MAX_LIMIT)
    task = asyncio.create_task(rankings.keep_fresh(settings.rankings_refresh_s), name="top-films")
    try:
        yield rankings
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
