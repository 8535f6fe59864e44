"""The content service: what a viewer may do with ratings, reviews and bookmarks.

Written against the ports (`content.ports`) only, so every rule here is
unit-tested over in-memory fakes, and the HTTP routes, the CLI or a test call
the same functions. The user is always the caller's, never taken from a body.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from ugc.content.models import (
    Bookmark,
    FilmRatingSummary,
    Rating,
    Review,
    ReviewIn,
    ReviewPatch,
    ReviewSort,
    VoteResult,
    VoteValue,
)
from ugc.content.ports import Stores
from ugc.content.rules import ensure_author
from ugc.web.cursor import Page


@dataclass(frozen=True, slots=True)
class ContentService:
    stores: Stores

    # Ratings
    async def rate(self, *, user_id: str, film_id: UUID, score: int) -> Rating:
        return await self.stores.ratings.set(user_id=user_id, film_id=film_id, score=score)

    async def unrate(self, *, user_id: str, film_id: UUID) -> None:
        await self.stores.ratings.remove(user_id=user_id, film_id=film_id)

    async def rating_summary(self, *, film_id: UUID, user_id: str) -> FilmRatingSummary:
        return await self.stores.ratings.summary(film_id=film_id, user_id=user_id)

    async def my_ratings(self, *, user_id: str, limit: int, after: str | None) -> Page[Rating]:
        return await self.stores.ratings.mine(user_id=user_id, limit=limit, after=after)

    # Reviews
    async def write_review(self, *, user_id: str, film_id: UUID, review: ReviewIn) -> Review:
        return await self.stores.reviews.create(user_id=user_id, film_id=film_id, review=review)

    async def review(self, review_id: str) -> Review:
        return await self.stores.reviews.get(review_id)

    async def edit_review(self, *, review_id: str, user_id: str, patch: ReviewPatch) -> Review:
        # The author of a review never changes, so checking it first is safe.
        ensure_author((await self.stores.reviews.get(review_id)).author_id, user_id)
        return await self.stores.reviews.update(review_id=review_id, patch=patch)

    async def delete_review(self, *, review_id: str, user_id: str) -> None:
        review = await self.stores.reviews.get(review_id)
        ensure_author(review.author_id, user_id)
        await self.stores.reviews.delete(review_id=review_id, film_id=review.film_id)

    async def vote(self, *, review_id: str, user_id: str, value: VoteValue | None) -> VoteResult:
        return await self.stores.reviews.vote(review_id=review_id, user_id=user_id, value=value)

    async def film_reviews(
        self, *, film_id: UUID, sort: ReviewSort, limit: int, after: str | None
    ) -> Page[Review]:
        return await self.stores.review_pages.page(
            film_id=film_id, sort=sort, limit=limit, after=after
        )

    # Bookmarks
    async def bookmark(self, *, user_id: str, film_id: UUID) -> tuple[Bookmark, bool]:
        return await self.stores.bookmarks.add(user_id=user_id, film_id=film_id)

    async def unbookmark(self, *, user_id: str, film_id: UUID) -> None:
        await self.stores.bookmarks.remove(user_id=user_id, film_id=film_id)

    async def my_bookmarks(self, *, user_id: str, limit: int, after: str | None) -> Page[Bookmark]:
        return await self.stores.bookmarks.page(user_id=user_id, limit=limit, after=after)
