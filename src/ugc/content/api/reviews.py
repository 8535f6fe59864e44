"""Reviews (one per user and film, edited or deleted by their author) and votes on them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from ugc.content.api.deps import (
    READS,
    WRITES,
    Content,
    FilmId,
    Limit,
    ReviewIdPath,
    Writer,
    json_model,
)
from ugc.content.models import Review, ReviewIn, ReviewPatch, ReviewSort, VoteIn, VoteResult
from ugc.web.cursor import Cursor, Page
from ugc.web.dependencies import CurrentUser
from ugc.web.openapi import problems

router = APIRouter(prefix="/api/v1", tags=["reviews"], responses=READS)
_NO_REVIEW = "No review has this id."


@router.post(
    "/films/{film_id}/reviews",
    status_code=201,
    summary="Review a film (one review per user and film)",
    responses=WRITES | problems(s409="You have reviewed this film already."),
)
async def post_review(film_id: FilmId, body: ReviewIn, user: Writer, content: Content) -> Review:
    return await content.write_review(user_id=user.user_id, film_id=film_id, review=body)


@router.get(
    "/films/{film_id}/reviews",
    summary="A film's reviews",
    response_model=Page[Review],
)
async def list_reviews(
    film_id: FilmId,
    user: CurrentUser,
    content: Content,
    sort: ReviewSort = ReviewSort.newest,
    limit: Limit = 20,
    cursor: Cursor = None,
    verified: Annotated[
        bool, Query(description="only reviews whose authors completed or half-watched the film")
    ] = False,
) -> Response:
    """`newest` first; `score` (likes minus dislikes); `helpful`: by the lower bound
    of the 95% Wilson score interval of likes among votes, then newest. Ranked
    orders page stably while votes change. Each review carries its author's
    viewing of the film (`author_viewing`, read from the events pipeline and read
    again when older than `UGC_REVIEW_VIEWING_TTL_S`); when the warehouse cannot be
    reached the reviews are still served, with the figures last read (`as_of`) or
    none (`null`)."""
    del user  # reading needs a valid token, nothing more
    page = await content.film_reviews(
        film_id=film_id, sort=sort, limit=limit, after=cursor, verified=verified
    )
    return json_model(page)


@router.get("/reviews/{review_id}", summary="One review", responses=problems(s404=_NO_REVIEW))
async def get_review(review_id: ReviewIdPath, user: CurrentUser, content: Content) -> Review:
    """A review hidden or removed by moderation is shown to its author (and to
    moderators) with its `status` and `removal_reason`; to anyone else it is a 404."""
    return await content.review(review_id, reader=user)


@router.patch(
    "/reviews/{review_id}",
    summary="Edit my review",
    responses=WRITES | problems(s403="Only the author may edit a review.", s404=_NO_REVIEW),
)
async def patch_review(
    review_id: ReviewIdPath, body: ReviewPatch, user: Writer, content: Content
) -> Review:
    return await content.edit_review(review_id=review_id, user_id=user.user_id, patch=body)


@router.delete(
    "/reviews/{review_id}",
    status_code=204,
    summary="Delete my review and its votes",
    responses=problems(429, s403="Only the author may delete a review.", s404=_NO_REVIEW),
)
async def delete_review(review_id: ReviewIdPath, user: Writer, content: Content) -> Response:
    await content.delete_review(review_id=review_id, user_id=user.user_id)
    return Response(status_code=204)


@router.put(
    "/reviews/{review_id}/vote",
    summary="Like or dislike a review",
    responses=WRITES | problems(s404=_NO_REVIEW),
)
async def put_vote(
    review_id: ReviewIdPath, body: VoteIn, user: Writer, content: Content
) -> VoteResult:
    return await content.vote(review_id=review_id, user_id=user.user_id, value=body.value)


@router.delete(
    "/reviews/{review_id}/vote",
    summary="Withdraw my vote",
    responses=problems(429, s404=_NO_REVIEW),
)
async def delete_vote(review_id: ReviewIdPath, user: Writer, content: Content) -> VoteResult:
    return await content.vote(review_id=review_id, user_id=user.user_id, value=None)
