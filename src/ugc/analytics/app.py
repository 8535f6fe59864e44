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
from dataclasses import dataclass
from typing import Any

from ugc.analytics.api import MAX_LIMIT, AnalyticsState, router
from ugc.analytics.queries import AnalyticsQueries, AnalyticsUnavailable
from ugc.analytics.rankings import KeptReady, TopFilmsRankings
from ugc.analytics.trending import TrendingFilms
from ugc.analytics.viewings import ViewingQueries
from ugc.settings import Settings
from ugc.warehouse.connect import open_sink
from ugc.warehouse.migrations import prepare_schema
from ugc.warehouse.sink import EventSink
from ugc.web.kit import ServiceKit
from ugc.web.service import Service, assemble

log = logging.getLogger(__name__)


def analytics_service(
    settings: Settings, queries: AnalyticsQueries, kept: Kept | None = None
) -> Service:
    """The service on `queries`; without `kept` rankings, every one computed when asked."""
    kept = kept or Kept(None, _trending(settings, queries))
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
        state=AnalyticsState(
            queries,
            kept.top_films,
            ViewingQueries(queries, settings.clickhouse.database, settings.viewing),
            kept.trending,
        ),
    )


@asynccontextmanager
async def open_analytics_service(
    settings: Settings, *, sink: EventSink | None = None
) -> AsyncIterator[Service]:
    """The analytics API on `sink` (`prepare_schema` first), or on the configured warehouse,
    opened for as long as the block runs; the kept rankings refresh meanwhile."""
    if sink is None:
        async with (
            open_sink(settings.clickhouse, settings.data_dir) as opened,
            open_analytics_service(settings, sink=opened) as service,
        ):
            yield service
        return
    await prepare_schema(sink, settings.clickhouse)
    queries = AnalyticsQueries(sink, settings.clickhouse.database)
    async with rankings_kept(settings, queries) as kept:
        yield analytics_service(settings, queries, kept)


@dataclass(frozen=True, slots=True)
class Kept:
    """The rankings kept ready: the top films (None when turned off) and trending
    (answered from memory only while it is refreshed)."""

    top_films: TopFilmsRankings | None
    trending: TrendingFilms


@asynccontextmanager
async def rankings_kept(settings: Settings, queries: AnalyticsQueries) -> AsyncIterator[Kept]:
    every_s = settings.analytics.rankings_refresh_s
    trending = _trending(settings, queries)
    if not every_s:
        yield Kept(None, trending)
        return
    top_films = None
    refreshed: list[KeptReady[Any, Any]] = [trending]
    if settings.analytics.rankings_days:
        top_films = TopFilmsRankings(
            queries, windows_days=settings.analytics.rankings_days, keep=MAX_LIMIT
        )
        refreshed.append(top_films)
    tasks = [
        asyncio.create_task(kept.keep_fresh(every_s), name=type(kept).__name__)
        for kept in refreshed
    ]
    try:
        yield Kept(top_films, trending)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _trending(settings: Settings, queries: AnalyticsQueries) -> TrendingFilms:
    return TrendingFilms(
        queries,
        settings.clickhouse.database,
        half_life_h=settings.viewing.trending_half_life_h,
        keep=MAX_LIMIT,
    )
