"""The content API as a service: `create_content_service(settings)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from starlette.responses import Response

from ugc.auth import TokenVerifier, load_keys
from ugc.content.api import Stores, router
from ugc.content.direct import SUMMARY_PATH, RatingSummaryEndpoint
from ugc.content.errors import ContentError
from ugc.content.limits import WriteQuota
from ugc.content.problems import content_problem
from ugc.content.store.bookmarks import BookmarkStore
from ugc.content.store.mongo import connect, create_indexes, translate_errors
from ugc.content.store.ratings import RatingStore
from ugc.content.store.review_pages import ReviewPages
from ugc.content.store.reviews import ReviewStore
from ugc.settings import Settings
from ugc.web import DirectRoute, Service, health_router, new_api


def create_content_service(settings: Settings) -> Service:
    assert settings.mongo_url, "the MongoDB URL is resolved at start"
    client = connect(settings.mongo_url, timeout_s=settings.mongo_timeout_s)
    db = client[settings.mongo_database]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await translate_errors(create_indexes)(db)
        ratings = summary_endpoint.ratings = RatingStore(client, db)
        reviews = ReviewStore(client, db, ratings)
        app.state.stores = Stores(ratings, reviews, ReviewPages(db), BookmarkStore(client, db))
        try:
            yield
        finally:
            await client.close()

    verifier = TokenVerifier(settings, load_keys(settings))
    summary_endpoint = RatingSummaryEndpoint(verifier)
    app = new_api(
        settings,
        name="content",
        description="Ratings, reviews with votes, and bookmarks. The user is the token's.",
        lifespan=lifespan,
        verifier=verifier,
    )
    app.add_exception_handler(ContentError, _content_problem)
    app.state.write_quota = WriteQuota(
        per_minute=settings.content_writes_per_minute, burst=settings.content_write_burst
    )

    async def mongo_ready() -> bool:
        try:
            await client.admin.command("ping")
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False
        return True

    checks = {"mongodb": mongo_ready}
    app.include_router(health_router(checks))
    app.include_router(router)
    summary_route = DirectRoute(SUMMARY_PATH, "GET", summary_endpoint)
    return Service(app, [summary_route], checks=checks, name="content")


async def _content_problem(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ContentError)
    return content_problem(exc).to_response()
