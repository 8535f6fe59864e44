"""Bookmarks: a user's watchlist, newest first."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from ugc.content.api.deps import READS, Content, FilmId, Limit, Writer, json_model
from ugc.content.models import Bookmark
from ugc.web.cursor import Cursor, Page
from ugc.web.dependencies import CurrentUser
from ugc.web.openapi import problems

router = APIRouter(prefix="/api/v1", tags=["bookmarks"], responses=READS)


@router.put(
    "/users/me/bookmarks/{film_id}",
    summary="Bookmark a film (201 the first time, 200 after)",
    status_code=201,
    responses={
        200: {"description": "Already bookmarked.", "model": Bookmark},
        **problems(429),
    },
)
async def put_bookmark(
    film_id: FilmId, user: Writer, content: Content, response: Response
) -> Bookmark:
    bookmark, created = await content.bookmark(user_id=user.user_id, film_id=film_id)
    response.status_code = 201 if created else 200
    return bookmark


@router.delete(
    "/users/me/bookmarks/{film_id}",
    status_code=204,
    summary="Remove a bookmark",
    responses=problems(429, s404="This film is not in your bookmarks."),
)
async def delete_bookmark(film_id: FilmId, user: Writer, content: Content) -> Response:
    await content.unbookmark(user_id=user.user_id, film_id=film_id)
    return Response(status_code=204)


@router.get(
    "/users/me/bookmarks",
    summary="My bookmarks, newest first",
    response_model=Page[Bookmark],
)
async def my_bookmarks(
    user: CurrentUser, content: Content, limit: Limit = 20, cursor: Cursor = None
) -> Response:
    return json_model(await content.my_bookmarks(user_id=user.user_id, limit=limit, after=cursor))
