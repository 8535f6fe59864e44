"""The content API as a service: `open_content_service(settings)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pymongo import AsyncMongoClient

from ugc.content.api import bookmarks, ratings, reviews
from ugc.content.api.deps import ContentState
from ugc.content.direct import SUMMARY_OPERATION, SUMMARY_PATH, RatingSummaryEndpoint
from ugc.content.service import ContentService
from ugc.content.store import open_stores
from ugc.content.store.mongo import Document, connect, create_indexes, store_errors
from ugc.settings import Settings
from ugc.web.direct import DirectRoute
from ugc.web.kit import ServiceKit
from ugc.web.quota import TokenBuckets
from ugc.web.service import Service, assemble


def content_service(
    settings: Settings, client: AsyncMongoClient[Document], *, direct_summary: bool = True
) -> Service:
    """The content API on a MongoDB client that is open (indexes in place); the
    rating summary on its direct route, or, `direct_summary=False`, on the framework
    (the other side of `make bench-content`'s comparison)."""
    kit = ServiceKit.of(settings, "content")
    content = ContentService(open_stores(client, settings.mongo.database))
    limits = settings.content
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
    direct_summary: bool = True,
) -> AsyncIterator[Service]:
    """The content API; without a `client`, on one opened for as long as the block
    runs. The indexes are created first."""
    if client is not None:
        with store_errors():
            await create_indexes(client[settings.mongo.database])
        yield content_service(settings, client, direct_summary=direct_summary)
        return
    assert settings.mongo.url, "the MongoDB URL is resolved at start"
    opened = connect(settings.mongo.url, timeout_s=settings.mongo.timeout_s)
    try:
        async with open_content_service(
            settings, client=opened, direct_summary=direct_summary
        ) as service:
            yield service
    finally:
        await opened.close()
