"""Reports on reviews (any viewer) and moderation (the `moderator` role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ugc.auth import MODERATOR_ROLE, Principal
from ugc.content.api.deps import READS, WRITES, Content, Limit, ReviewIdPath, Writer
from ugc.content.models import (
    ModeratedReview,
    ModerationAction,
    ModerationStatus,
    RemovalIn,
    Report,
    ReportIn,
    Review,
)
from ugc.errors import Forbidden
from ugc.web.cursor import Cursor, Page
from ugc.web.dependencies import CurrentUser
from ugc.web.openapi import problems

router = APIRouter(prefix="/api/v1", tags=["moderation"], responses=READS)
_NO_REVIEW = "No review has this id."
_NOT_MODERATOR = f"Moderation needs the {MODERATOR_ROLE!r} role."


async def _moderator(user: CurrentUser) -> Principal:
    if not user.has_role(MODERATOR_ROLE):
        raise Forbidden(_NOT_MODERATOR)
    return user


Moderator = Annotated[Principal, Depends(_moderator)]
_MODERATION = problems(s403=_NOT_MODERATOR, s404=_NO_REVIEW)


@router.post(
    "/reviews/{review_id}/reports",
    summary="Report a review (one report per viewer and review; again changes it)",
    responses=WRITES | problems(s403="You cannot report your own review.", s404=_NO_REVIEW),
)
async def report_review(
    review_id: ReviewIdPath, body: ReportIn, user: Writer, content: Content
) -> Report:
    """`reason` is one of `spoiler`, `abuse`, `spam`, `off_topic`, `other` (`text`
    required, up to 500 characters). A review reported by
    `UGC_REVIEW_HIDE_AFTER_REPORTS` (5) viewers is hidden from every list and count
    until a moderator decides; its author still sees it, marked `hidden`."""
    return await content.report(review_id=review_id, user_id=user.user_id, report=body)


@router.get(
    "/moderation/reviews",
    summary="Reviews waiting for a moderator, the oldest reported first",
    responses=problems(s403=_NOT_MODERATOR),
)
async def moderation_queue(
    user: Moderator,
    content: Content,
    status: Annotated[ModerationStatus, Query()] = ModerationStatus.reported,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[ModeratedReview]:
    """`reported`: listed reviews with open reports; `hidden`: hidden by reports;
    `removed`: removed by a moderator. Open reports are counted by reason."""
    del user
    return await content.moderation_queue(status=status, limit=limit, after=cursor)


@router.post(
    "/moderation/reviews/{review_id}/restore",
    summary="List a review again and close its reports",
    responses=_MODERATION,
)
async def restore_review(review_id: ReviewIdPath, user: Moderator, content: Content) -> Review:
    return await content.restore(review_id=review_id, moderator_id=user.user_id)


@router.post(
    "/moderation/reviews/{review_id}/remove",
    summary="Remove a review, with a reason its author sees",
    responses=_MODERATION | problems(400, 413),
)
async def remove_review(
    review_id: ReviewIdPath, body: RemovalIn, user: Moderator, content: Content
) -> Review:
    return await content.remove(review_id=review_id, moderator_id=user.user_id, reason=body.reason)


@router.get(
    "/moderation/actions",
    summary="Every moderation action, newest first: who, when, what and why",
    responses=problems(s403=_NOT_MODERATOR),
)
async def moderation_actions(
    user: Moderator, content: Content, limit: Limit = 20, cursor: Cursor = None
) -> Page[ModerationAction]:
    del user
    return await content.moderation_actions(limit=limit, after=cursor)
