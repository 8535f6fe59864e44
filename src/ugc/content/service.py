"""The content service: what a viewer may do with ratings, reviews and bookmarks.

Written against the ports (`content.ports`) only, so every rule here is
unit-tested over in-memory fakes, and the HTTP routes, the CLI or a test call
the same functions. The user is always the caller's, never taken from a body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from ugc.auth import MODERATOR_ROLE, AccountErased, Principal
from ugc.content.errors import NotFound
from ugc.content.first_pages import FirstPages, Listing
from ugc.content.models import (
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
    ReviewStatus,
    VoteResult,
    VoteValue,
)
from ugc.content.ports import Stores
from ugc.content.rules import ensure_author, is_verified
from ugc.content.viewings import NoViewings, Viewings
from ugc.web.cursor import Page


@dataclass(frozen=True, slots=True)
class ContentService:
    stores: Stores
    viewings: Viewings = field(default_factory=NoViewings)
    verified_fraction: float = 0.5
    # Reviewers' viewing figures older than this are read again when shown.
    viewing_ttl_s: float = 60.0
    # A film's first review pages, kept a few seconds (none unless given).
    first_pages: FirstPages = field(default_factory=lambda: FirstPages(ttl_s=0))

    async def check_writer(self, user_id: str) -> None:
        """`AccountErased` once the user's erasure was asked for: nothing they send
        after it may bring their data back."""
        if await self.stores.accounts.erased(user_id):
            raise AccountErased

    # Ratings
    async def rate(self, *, user_id: str, film_id: UUID, score: int) -> Rating:
        try:  # the author's score is shown beside their review
            return await self.stores.ratings.set(user_id=user_id, film_id=film_id, score=score)
        finally:
            self.first_pages.forget(film_id)

    async def unrate(self, *, user_id: str, film_id: UUID) -> None:
        try:
            await self.stores.ratings.remove(user_id=user_id, film_id=film_id)
        finally:
            self.first_pages.forget(film_id)

    async def rating_summary(self, *, film_id: UUID, user_id: str) -> FilmRatingSummary:
        return await self.stores.ratings.summary(film_id=film_id, user_id=user_id)

    async def my_ratings(self, *, user_id: str, limit: int, after: str | None) -> Page[Rating]:
        return await self.stores.ratings.mine(user_id=user_id, limit=limit, after=after)

    # Reviews
    async def write_review(self, *, user_id: str, film_id: UUID, review: ReviewIn) -> Review:
        try:
            made = await self.stores.reviews.create(user_id=user_id, film_id=film_id, review=review)
        finally:
            self.first_pages.forget(film_id)
        return (await self._with_viewings([made], fresh=True))[0]

    async def review(self, review_id: str, *, reader: Principal) -> Review:
        """A listed review to anyone; one withheld by moderation only to its author
        (marked hidden or removed, with the reason) and to moderators."""
        found = await self.stores.reviews.find(review_id)
        if found.status is not ReviewStatus.visible and not (
            found.author_id == reader.user_id or reader.has_role(MODERATOR_ROLE)
        ):
            raise NotFound("No review has this id.")
        return (await self._with_viewings([found]))[0]

    async def edit_review(self, *, review_id: str, user_id: str, patch: ReviewPatch) -> Review:
        # The author of a review never changes, so checking it first is safe.
        review = await self.stores.reviews.get(review_id)
        ensure_author(review.author_id, user_id)
        try:
            return await self.stores.reviews.update(review_id=review_id, patch=patch)
        finally:
            self.first_pages.forget(review.film_id)

    async def delete_review(self, *, review_id: str, user_id: str) -> None:
        review = await self.stores.reviews.find(review_id)
        ensure_author(review.author_id, user_id)
        try:
            await self.stores.reviews.delete(review_id=review_id, film_id=review.film_id)
        finally:
            self.first_pages.forget(review.film_id)

    async def vote(self, *, review_id: str, user_id: str, value: VoteValue | None) -> VoteResult:
        try:
            return await self.stores.reviews.vote(review_id=review_id, user_id=user_id, value=value)
        finally:
            self.first_pages.forget_review(review_id)

    async def film_reviews(
        self,
        *,
        film_id: UUID,
        sort: ReviewSort,
        limit: int,
        after: str | None,
        verified: bool = False,
    ) -> Page[Review]:
        def read() -> Awaitable[Page[Review]]:
            return self.stores.review_pages.page(
                film_id=film_id, sort=sort, limit=limit, after=after, verified=verified
            )

        if after is None:
            page = await self.first_pages.first(film_id, Listing(sort, verified, limit), read)
        else:
            page = await read()
        items = await self._with_viewings(page.items)
        return page.model_copy(update={"items": items})

    async def _with_viewings(
        self, reviews: Sequence[Review], *, fresh: bool = False
    ) -> list[Review]:
        """The reviews with their authors' viewing figures read again where older
        than the TTL (or never read); the stored ones when the warehouse does not
        answer. The figures read are kept, so `?verified=true` lists follow them."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self.viewing_ttl_s)
        stale = [
            r
            for r in reviews
            if fresh or r.author_viewing is None or r.author_viewing.as_of < cutoff
        ]
        by_film: dict[UUID, list[Review]] = {}
        for review in stale:
            by_film.setdefault(review.film_id, []).append(review)
        updated: dict[str, Review] = {}
        for film_id, of_film in by_film.items():
            found = await self.viewings.of(film_id, (r.author_id for r in of_film))
            if found is None:  # the warehouse did not answer: the stored figures stand
                continue
            marks = []
            for review in of_film:
                viewing = found[review.author_id]
                verified = is_verified(
                    progress=viewing.progress,
                    viewings=viewing.viewings,
                    verified_fraction=self.verified_fraction,
                )
                marks.append((review.id, viewing, verified))
                updated[review.id] = review.model_copy(
                    update={"author_viewing": viewing, "verified": verified}
                )
            await self.stores.reviews.set_viewings(marks)
            self.first_pages.forget(film_id)
        return [updated.get(r.id, r) for r in reviews]

    async def refresh_stale_viewings(self, *, limit: int) -> int:
        """Read again the viewing figures of the `limit` listed reviews read longest
        ago (past the TTL), so that lists filtered on `verified` follow viewing even
        for reviews nobody opens; how many were read (none while the warehouse does
        not answer)."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self.viewing_ttl_s)
        due = await self.stores.reviews.stale(checked_before=cutoff, limit=limit)
        shown = await self._with_viewings(due, fresh=True)
        return sum(1 for before, after in zip(due, shown, strict=True) if after is not before)

    # Reports and moderation
    async def report(self, *, review_id: str, user_id: str, report: ReportIn) -> Report:
        made = await self.stores.moderation.report(
            review_id=review_id, user_id=user_id, report=report
        )
        # It may have hidden the review: the film's pages and total change.
        self.first_pages.forget((await self.stores.reviews.find(review_id)).film_id)
        return made

    async def restore(self, *, review_id: str, moderator_id: str) -> Review:
        restored = await self.stores.moderation.restore(
            review_id=review_id, moderator_id=moderator_id
        )
        self.first_pages.forget(restored.film_id)
        return restored

    async def remove(self, *, review_id: str, moderator_id: str, reason: str) -> Review:
        removed = await self.stores.moderation.remove(
            review_id=review_id, moderator_id=moderator_id, reason=reason
        )
        self.first_pages.forget(removed.film_id)
        return removed

    async def moderation_queue(
        self, *, status: ModerationStatus, limit: int, after: str | None
    ) -> Page[ModeratedReview]:
        return await self.stores.moderation.queue(status=status, limit=limit, after=after)

    async def moderation_actions(self, *, limit: int, after: str | None) -> Page[ModerationAction]:
        return await self.stores.moderation.actions(limit=limit, after=after)

    # Bookmarks
    async def bookmark(self, *, user_id: str, film_id: UUID) -> tuple[Bookmark, bool]:
        return await self.stores.bookmarks.add(user_id=user_id, film_id=film_id)

    async def unbookmark(self, *, user_id: str, film_id: UUID) -> None:
        await self.stores.bookmarks.remove(user_id=user_id, film_id=film_id)

    async def my_bookmarks(self, *, user_id: str, limit: int, after: str | None) -> Page[Bookmark]:
        return await self.stores.bookmarks.page(user_id=user_id, limit=limit, after=after)
