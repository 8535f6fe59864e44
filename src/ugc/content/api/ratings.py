"""Ratings: a score 0-10 per user and film. A film's summary (GET) is served by
the direct endpoint `content.direct.RatingSummaryEndpoint`; `summary_router` is
the same read on the framework, which `make bench-content` measures against it."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from ugc.content.api.deps import (
    READS,
    WRITES,
    Content,
    FilmId,
    Limit,
    Writer,
    json_model,
)
from ugc.content.models import FilmRatingSummary, Rating, RatingIn
from ugc.web.cursor import Cursor, Page
from ugc.web.dependencies import CurrentUser
from ugc.web.openapi import problems

router = APIRouter(prefix="/api/v1", tags=["ratings"], responses=READS)
summary_router = APIRouter(prefix="/api/v1", tags=["ratings"], responses=READS)


@summary_router.get(
    "/films/{film_id}/rating",
    summary="The film's ratings: count, average, distribution and my score",
    response_model=FilmRatingSummary,
)
async def get_rating_summary(film_id: FilmId, user: CurrentUser, content: Content) -> Response:
    summary = await content.rating_summary(film_id=film_id, user_id=user.user_id)
    return json_model(summary)


@router.put("/films/{film_id}/rating", summary="Rate a film 0-10, or change it", responses=WRITES)
async def put_rating(film_id: FilmId, body: RatingIn, user: Writer, content: Content) -> Rating:
    return await content.rate(user_id=user.user_id, film_id=film_id, score=body.score)


@router.delete(
    "/films/{film_id}/rating",
    status_code=204,
    summary="Remove my rating",
    responses=problems(429, s404="You have not rated this film."),
)
async def delete_rating(film_id: FilmId, user: Writer, content: Content) -> Response:
    await content.unrate(user_id=user.user_id, film_id=film_id)
    return Response(status_code=204)


@router.get("/users/me/ratings", summary="My ratings, newest first")
async def my_ratings(
    user: CurrentUser, content: Content, limit: Limit = 20, cursor: Cursor = None
) -> Page[Rating]:
    return await content.my_ratings(user_id=user.user_id, limit=limit, after=cursor)
