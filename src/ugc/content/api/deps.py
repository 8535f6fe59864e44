"""What the content routes share: the stores, the write quota, path and query types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from ugc.auth import Principal
from ugc.content.store.bookmarks import BookmarkStore
from ugc.content.store.ratings import RatingStore
from ugc.content.store.review_pages import ReviewPages
from ugc.content.store.reviews import ReviewStore
from ugc.web.dependencies import CurrentUser
from ugc.web.openapi import problems
from ugc.web.quota import TokenBuckets, too_many

# What every content route may answer, and what a write may answer besides.
READS = problems(401, 422, 503)
WRITES = problems(400, 413, 429)


@dataclass(frozen=True, slots=True)
class Stores:
    ratings: RatingStore
    reviews: ReviewStore
    review_pages: ReviewPages
    bookmarks: BookmarkStore


async def _stores(request: Request) -> Stores:
    stores: Stores = request.app.state.stores
    return stores


StoresDep = Annotated[Stores, Depends(_stores)]


async def _write_allowed(request: Request, user: CurrentUser) -> Principal:
    quota: TokenBuckets = request.app.state.write_quota
    wait = quota.take(user.user_id)
    if wait is not None:
        raise too_many(wait, "changes")
    return user


Writer = Annotated[Principal, Depends(_write_allowed)]
FilmId = Annotated[UUID, Path(description="The film's UUID")]
ReviewIdPath = Annotated[
    str, Path(pattern=r"^[0-9a-f]{24}$", description="The review's id: 24 hex characters")
]
Limit = Annotated[int, Query(ge=1, le=100, description="Page size, at most 100")]
Cursor = Annotated[
    str | None, Query(max_length=256, description="`next_cursor` of the previous page")
]


def json_model(model: BaseModel) -> Response:
    """The hot reads answer directly: the store built the model, so validating it
    again on the way out (FastAPI's response_model) would only cost time."""
    return Response(model.__pydantic_serializer__.to_json(model), media_type="application/json")
