"""What the content rules need of storage: a port per store.

The MongoDB adapters (`content.store`) and the tests' in-memory fakes both
satisfy these; the service (`content.service`) is written against them only.
Each store keeps its counters in step with its documents (a film's rating
summary, a review's votes, a user's totals), moved by `content.rules`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from ugc.content.models import (
    AuthorViewing,
    Bookmark,
    FilmRatingSummary,
    ModeratedReview,
    ModerationAction,
    ModerationStatus,
    Rating,
    Report,
    ReportIn,
    Review,
    ReviewIn,
    ReviewPatch,
    ReviewSort,
    VoteResult,
    VoteValue,
)
from ugc.web.cursor import Page


class Ratings(Protocol):
    async def set(self, *, user_id: str, film_id: UUID, score: int) -> Rating:
        """Rate or re-rate; the film's summary and the user's count move with it."""

    async def remove(self, *, user_id: str, film_id: UUID) -> None:
        """Withdraw the rating (`NotFound` when there is none), counters with it."""

    async def summary(self, *, film_id: UUID, user_id: str) -> FilmRatingSummary: ...

    async def mine(self, *, user_id: str, limit: int, after: str | None) -> Page[Rating]: ...


class Reviews(Protocol):
    async def create(self, *, user_id: str, film_id: UUID, review: ReviewIn) -> Review:
        """`AlreadyExists` when the user has reviewed the film: one review per user
        and film, kept by the store itself, so that two at once cannot both pass."""

    async def get(self, review_id: str) -> Review:
        """A listed review; `NotFound` when no listed review has the id."""

    async def find(self, review_id: str) -> Review:
        """The review, listed or withheld by moderation (its `status` says which)."""

    async def set_viewings(self, found: Sequence[tuple[str, AuthorViewing, bool]]) -> None:
        """(review id, its author's viewing, verified) as just read from the warehouse."""

    async def stale(self, *, checked_before: datetime, limit: int) -> list[Review]:
        """Listed reviews whose viewing figures were read longest ago (and before then)."""

    async def update(self, *, review_id: str, patch: ReviewPatch) -> Review: ...

    async def delete(self, *, review_id: str, film_id: UUID) -> None:
        """The review (listed or withheld), its votes and reports, and its film's
        review count when it was listed."""

    async def vote(self, *, review_id: str, user_id: str, value: VoteValue | None) -> VoteResult:
        """Set (like/dislike) or, with None, withdraw the user's vote; the review's
        counts move with it."""


class ReviewPages(Protocol):
    async def page(
        self,
        *,
        film_id: UUID,
        sort: ReviewSort,
        limit: int,
        after: str | None,
        verified: bool = False,
    ) -> Page[Review]: ...


class Moderation(Protocol):
    async def report(self, *, review_id: str, user_id: str, report: ReportIn) -> Report:
        """One report per user and listed review (a repeat changes it); `NotYours` on
        one's own review. The report that makes enough open ones hides the review."""

    async def restore(self, *, review_id: str, moderator_id: str) -> Review:
        """Listed again, its reports closed; recorded."""

    async def remove(self, *, review_id: str, moderator_id: str, reason: str) -> Review:
        """Out of every list and count, with the reason its author sees; recorded."""

    async def queue(
        self, *, status: ModerationStatus, limit: int, after: str | None
    ) -> Page[ModeratedReview]: ...

    async def actions(self, *, limit: int, after: str | None) -> Page[ModerationAction]: ...


class Bookmarks(Protocol):
    async def add(self, *, user_id: str, film_id: UUID) -> tuple[Bookmark, bool]:
        """The bookmark, and whether this call made it (adding twice is harmless)."""

    async def remove(self, *, user_id: str, film_id: UUID) -> None:
        """`NotFound` when the film is not bookmarked."""

    async def page(self, *, user_id: str, limit: int, after: str | None) -> Page[Bookmark]: ...


class Accounts(Protocol):
    async def erased(self, user_id: str) -> bool:
        """Whether the user's erasure was asked for: then they write nothing more."""


@dataclass(frozen=True, slots=True)
class Stores:
    ratings: Ratings
    reviews: Reviews
    review_pages: ReviewPages
    bookmarks: Bookmarks
    moderation: Moderation
    accounts: Accounts
