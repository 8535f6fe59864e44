"""The content API as a service: `create_content_service(settings)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from starlette.responses import Response

from ugc import __version__
from ugc.auth import TokenVerifier, load_keys
from ugc.content.api import Stores, router
from ugc.content.errors import (
    AlreadyExists,
    ContentError,
    InvalidCursor,
    NotFound,
    NotYours,
    StoreUnavailable,
)
from ugc.content.store.bookmarks import BookmarkStore
from ugc.content.store.mongo import connect, create_indexes, translate_errors
from ugc.content.store.ratings import RatingStore
from ugc.content.store.review_pages import ReviewPages
from ugc.content.store.reviews import ReviewStore
from ugc.observability.metrics import CONTENT_ERRORS
from ugc.problems import Problem
from ugc.settings import Settings
from ugc.web import Service, health_router, prepare_app


def create_content_service(settings: Settings) -> Service:
    assert settings.mongo_url, "the MongoDB URL is resolved at start"
    client = connect(settings.mongo_url, timeout_s=settings.mongo_timeout_s)
    db = client[settings.mongo_database]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await translate_errors(create_indexes)(db)
        ratings = RatingStore(client, db)
        reviews = ReviewStore(client, db, ratings)
        app.state.stores = Stores(ratings, reviews, ReviewPages(db), BookmarkStore(client, db))
        try:
            yield
        finally:
            await client.close()

    app = FastAPI(
        title="ugc content API",
        version=__version__,
        description="Ratings, reviews with votes, and bookmarks. The user is the token's.",
        lifespan=lifespan,
        docs_url="/docs/content",
        openapi_url="/openapi/content.json",
        redoc_url=None,
    )
    app.state.settings = settings
    prepare_app(app, TokenVerifier(settings, load_keys(settings)))
    app.add_exception_handler(ContentError, _content_problem)

    async def mongo_ready() -> bool:
        try:
            await client.admin.command("ping")
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False
        return True

    checks = {"mongodb": mongo_ready}
    app.include_router(health_router(checks))
    app.include_router(router)
    return Service(app, checks=checks, name="content")


_STATUS: dict[type[ContentError], int] = {
    NotFound: 404,
    AlreadyExists: 409,
    NotYours: 403,
    InvalidCursor: 422,
    StoreUnavailable: 503,
}


async def _content_problem(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ContentError)
    status = _STATUS.get(type(exc), 500)
    CONTENT_ERRORS.labels(type(exc).__name__).inc()
    headers = {"Retry-After": "2"} if status == 503 else None
    errors = [{"field": "cursor", "reason": str(exc)}] if isinstance(exc, InvalidCursor) else None
    return Problem(status, str(exc), headers=headers, errors=errors).to_response()
