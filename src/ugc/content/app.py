"""The content API as a service: `open_content_service(settings)`.

Reviews carry their authors' viewing, read from the warehouse: `ugc dev` hands
the service its embedded ClickHouse (`sink`), `ugc serve-content` opens the
configured server (`UGC_CLICKHOUSE_URL`, read only). Without either the figures
are never known (a warning says so) and reviews are served without them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from pymongo import AsyncMongoClient

from ugc.content.api import bookmarks, moderation, ratings, reviews
from ugc.content.api.deps import ContentState
from ugc.content.direct import SUMMARY_OPERATION, SUMMARY_PATH, RatingSummaryEndpoint
from ugc.content.first_pages import FirstPages
from ugc.content.service import ContentService
from ugc.content.store import open_stores
from ugc.content.store.mongo import Document, connect, create_indexes, store_errors
from ugc.content.viewings import NoViewings, Viewings, WarehouseViewings
from ugc.settings import Settings
from ugc.warehouse.connect import open_sink
from ugc.warehouse.sink import EventSink
from ugc.web.direct import DirectRoute
from ugc.web.kit import ServiceKit
from ugc.web.quota import TokenBuckets
from ugc.web.service import Service, assemble

log = logging.getLogger(__name__)


def content_service(
    settings: Settings,
    client: AsyncMongoClient[Document],
    *,
    direct_summary: bool = True,
    viewings: Viewings | None = None,
) -> Service:
    """The content API on a MongoDB client that is open (indexes in place); the
    rating summary on its direct route, or, `direct_summary=False`, on the framework
    (the other side of `make bench-content`'s comparison)."""
    kit = ServiceKit.of(settings, "content")
    limits = settings.content
    content = ContentService(
        open_stores(
            client,
            settings.mongo.database,
            hide_after_reports=limits.review_hide_after_reports,
            ranking_reuse_s=limits.review_ranking_reuse_s,
        ),
        viewings=viewings or NoViewings(),
        verified_fraction=settings.viewing.verified_fraction,
        viewing_ttl_s=limits.review_viewing_ttl_s,
        first_pages=FirstPages(ttl_s=limits.review_page_ttl_s),
    )
    summary = RatingSummaryEndpoint(kit, content)

    async def mongo_ready() -> bool:
        await client.admin.command("ping")
        return True

    return assemble(
        kit,
        description="Ratings, reviews with votes, and bookmarks. The user is the token's.",
        routers=[
            ratings.router,
            reviews.router,
            moderation.router,
            bookmarks.router,
            *([] if direct_summary else [ratings.summary_router]),
        ],
        direct_routes=(
            [DirectRoute(SUMMARY_PATH, "GET", summary, SUMMARY_OPERATION)] if direct_summary else []
        ),
        checks={"mongodb": mongo_ready},
        state=ContentState(
            content,
            TokenBuckets(per_second=limits.writes_per_minute / 60, burst=limits.write_burst),
        ),
    )


@asynccontextmanager
async def open_content_service(
    settings: Settings,
    *,
    client: AsyncMongoClient[Document] | None = None,
    sink: EventSink | None = None,
    direct_summary: bool = True,
) -> AsyncIterator[Service]:
    """The content API; without a `client`, on one opened for as long as the block
    runs. The indexes are created first. Reviewers' viewing comes from `sink`, or
    from the configured ClickHouse server; while the service runs, the figures
    read longest ago are read again in the background."""
    async with AsyncExitStack() as stack:
        if client is None:
            assert settings.mongo.url, "the MongoDB URL is resolved at start"
            client = connect(settings.mongo.url, timeout_s=settings.mongo.timeout_s)
            stack.push_async_callback(client.close)
        with store_errors():
            await create_indexes(client[settings.mongo.database])
        if sink is None and settings.clickhouse.url:
            sink = await stack.enter_async_context(
                open_sink(settings.clickhouse, settings.data_dir)
            )
        viewings: Viewings = NoViewings()
        if sink is not None:
            viewings = WarehouseViewings(sink, settings.clickhouse.database, settings.viewing)
        else:
            log.warning("no ClickHouse for the content service: reviews carry no viewing figures")
        service = content_service(
            settings, client, direct_summary=direct_summary, viewings=viewings
        )
        content = service.api.state.service
        assert isinstance(content, ContentState)
        # Pages read ahead stop before the client closes under them.
        stack.push_async_callback(content.content.first_pages.reading.cancel)
        if sink is not None:
            task = asyncio.create_task(_keep_viewings_fresh(content.content), name="viewings")
            stack.push_async_callback(_cancelled, task)
        yield service


REFRESH_EVERY_S = 5.0
REFRESH_BATCH = 200


async def _keep_viewings_fresh(content: ContentService) -> None:
    """Read again, a batch at a time, the viewing figures read longest ago; a full
    batch is followed by the next at once, anything less (or a warehouse that does
    not answer) by a pause."""
    while True:
        try:
            read = await content.refresh_stale_viewings(limit=REFRESH_BATCH)
        except Exception:  # the refresher must outlive any failure
            log.warning("reviewers' viewing not refreshed", exc_info=True)
            read = 0
        if read < REFRESH_BATCH:
            await asyncio.sleep(REFRESH_EVERY_S)


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
