"""HTTP routes of the content API: parse, call the store, answer. Identity is the token's."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel

from ugc.auth import Principal
from ugc.content.limits import WriteQuota
from ugc.content.models import (
    Bookmark,
    FilmRatingSummary,
    Page,
    Rating,
    RatingIn,
    Review,
    ReviewIn,
    ReviewPatch,
    ReviewSort,
    VoteIn,
    VoteResult,
)
from ugc.content.store.bookmarks import BookmarkStore
from ugc.content.store.ratings import RatingStore
from ugc.content.store.review_pages import ReviewPages
from ugc.content.store.reviews import ReviewStore
from ugc.problems import Problem
from ugc.web import CurrentUser

router = APIRouter(prefix="/api/v1")


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
    quota: WriteQuota = request.app.state.write_quota
    wait = quota.take(user.user_id)
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        raise Problem(
            429,
            f"Too many changes in a short time; retry in {seconds} s.",
            headers={"Retry-After": str(seconds)},
        )
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


# Ratings ---------------------------------------------------------------------


@router.put("/films/{film_id}/rating", tags=["ratings"], summary="Rate a film 0-10, or change it")
async def put_rating(film_id: FilmId, body: RatingIn, user: Writer, stores: StoresDep) -> Rating:
    return await stores.ratings.set(user_id=user.user_id, film_id=film_id, score=body.score)


@router.get(
    "/films/{film_id}/rating",
    tags=["ratings"],
    summary="The film's ratings: count, average, distribution and my score",
    response_model=FilmRatingSummary,
)
async def get_rating_summary(film_id: FilmId, user: CurrentUser, stores: StoresDep) -> Response:
    return _json(await stores.ratings.summary(film_id=film_id, user_id=user.user_id))


@router.delete(
    "/films/{film_id}/rating", tags=["ratings"], status_code=204, summary="Remove my rating"
)
async def delete_rating(film_id: FilmId, user: Writer, stores: StoresDep) -> Response:
    await stores.ratings.remove(user_id=user.user_id, film_id=film_id)
    return Response(status_code=204)


@router.get("/users/me/ratings", tags=["ratings"], summary="My ratings, newest first")
async def my_ratings(
    user: CurrentUser, stores: StoresDep, limit: Limit = 20, cursor: Cursor = None
) -> Page[Rating]:
    return await stores.ratings.mine(user_id=user.user_id, limit=limit, after=cursor)


# Reviews ---------------------------------------------------------------------


@router.post(
    "/films/{film_id}/reviews",
    tags=["reviews"],
    status_code=201,
    summary="Review a film (one review per user and film)",
    responses={409: {"description": "You have reviewed this film already."}},
)
async def post_review(film_id: FilmId, body: ReviewIn, user: Writer, stores: StoresDep) -> Review:
    return await stores.reviews.create(user_id=user.user_id, film_id=film_id, review=body)


@router.get(
    "/films/{film_id}/reviews",
    tags=["reviews"],
    summary="A film's reviews",
    response_model=Page[Review],
)
async def list_reviews(
    film_id: FilmId,
    user: CurrentUser,
    stores: StoresDep,
    sort: ReviewSort = ReviewSort.newest,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    del user  # reading needs a valid token, nothing more
    page = await stores.review_pages.page(film_id=film_id, sort=sort, limit=limit, after=cursor)
    return _json(page)


@router.get("/reviews/{review_id}", tags=["reviews"], summary="One review")
async def get_review(review_id: ReviewIdPath, user: CurrentUser, stores: StoresDep) -> Review:
    del user
    return await stores.reviews.get(review_id)


@router.patch(
    "/reviews/{review_id}",
    tags=["reviews"],
    summary="Edit my review",
    responses={403: {"description": "Only the author may edit a review."}},
)
async def patch_review(
    review_id: ReviewIdPath, body: ReviewPatch, user: Writer, stores: StoresDep
) -> Review:
    return await stores.reviews.update(review_id=review_id, user_id=user.user_id, patch=body)


@router.delete(
    "/reviews/{review_id}",
    tags=["reviews"],
    status_code=204,
    summary="Delete my review and its votes",
    responses={403: {"description": "Only the author may delete a review."}},
)
async def delete_review(review_id: ReviewIdPath, user: Writer, stores: StoresDep) -> Response:
    await stores.reviews.delete(review_id=review_id, user_id=user.user_id)
    return Response(status_code=204)


@router.put("/reviews/{review_id}/vote", tags=["reviews"], summary="Like or dislike a review")
async def put_vote(
    review_id: ReviewIdPath, body: VoteIn, user: Writer, stores: StoresDep
) -> VoteResult:
    return await stores.reviews.vote(review_id=review_id, user_id=user.user_id, value=body.value)


@router.delete("/reviews/{review_id}/vote", tags=["reviews"], summary="Withdraw my vote")
async def delete_vote(review_id: ReviewIdPath, user: Writer, stores: StoresDep) -> VoteResult:
    return await stores.reviews.vote(review_id=review_id, user_id=user.user_id, value=None)


# Bookmarks -------------------------------------------------------------------


@router.put(
    "/users/me/bookmarks/{film_id}",
    tags=["bookmarks"],
    summary="Bookmark a film (201 the first time, 200 after)",
    status_code=201,
    responses={200: {"description": "Already bookmarked.", "model": Bookmark}},
)
async def put_bookmark(
    film_id: FilmId, user: Writer, stores: StoresDep, response: Response
) -> Bookmark:
    bookmark, created = await stores.bookmarks.add(user_id=user.user_id, film_id=film_id)
    response.status_code = 201 if created else 200
    return bookmark


@router.delete(
    "/users/me/bookmarks/{film_id}",
    tags=["bookmarks"],
    status_code=204,
    summary="Remove a bookmark",
)
async def delete_bookmark(film_id: FilmId, user: Writer, stores: StoresDep) -> Response:
    await stores.bookmarks.remove(user_id=user.user_id, film_id=film_id)
    return Response(status_code=204)


@router.get(
    "/users/me/bookmarks",
    tags=["bookmarks"],
    summary="My bookmarks, newest first",
    response_model=Page[Bookmark],
)
async def my_bookmarks(
    user: CurrentUser, stores: StoresDep, limit: Limit = 20, cursor: Cursor = None
) -> Response:
    return _json(await stores.bookmarks.page(user_id=user.user_id, limit=limit, after=cursor))


def _json(model: BaseModel) -> Response:
    """The hot reads answer directly: the store built the model, so validating it
    again on the way out (FastAPI's response_model) would only cost time."""
    return Response(model.__pydantic_serializer__.to_json(model), media_type="application/json")
