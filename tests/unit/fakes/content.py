"""In-memory content stores: each satisfies its port in `ugc.content.ports`, and
moves its counters with `ugc.content.rules`, as the MongoDB adapters do; the
unit tests run the content service over them."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

from ugc.content.errors import AlreadyExists, NotFound
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
from ugc.content.rules import points, rating_move, rating_summary, vote_move
from ugc.web.cursor import Page

T = TypeVar("T")


@dataclass
class _Summary:
    count: int = 0
    total: int = 0
    distribution: dict[str, int] = field(default_factory=dict)


def _page(items: list[T], limit: int, after: str | None) -> Page[T]:
    start = int(after or 0)
    end = start + limit
    return Page[T](
        items=items[start:end],
        total=len(items),
        next_cursor=str(end) if end < len(items) else None,
    )


class FakeRatings:
    def __init__(self) -> None:
        self.scores: dict[tuple[str, UUID], Rating] = {}
        self.films: dict[UUID, _Summary] = defaultdict(_Summary)
        self.reviews: FakeReviews | None = None  # shows the score beside the review

    async def set(self, *, user_id: str, film_id: UUID, score: int) -> Rating:
        before = self.scores.get((user_id, film_id))
        self._move(user_id, film_id, before.score if before else None, score)
        now = datetime.now(UTC)
        rating = Rating(
            film_id=film_id,
            score=score,
            created_at=before.created_at if before else now,
            updated_at=now,
        )
        self.scores[user_id, film_id] = rating
        return rating

    async def remove(self, *, user_id: str, film_id: UUID) -> None:
        gone = self.scores.pop((user_id, film_id), None)
        if gone is None:
            raise NotFound("You have not rated this film.")
        self._move(user_id, film_id, gone.score, None)

    def _move(self, user_id: str, film_id: UUID, before: int | None, after: int | None) -> None:
        move = rating_move(before, after)
        summary = self.films[film_id]
        summary.count += move.count
        summary.total += move.total
        for score, change in move.distribution.items():
            summary.distribution[str(score)] = summary.distribution.get(str(score), 0) + change
        if self.reviews is not None:
            self.reviews.author_scores[user_id, film_id] = after

    async def summary(self, *, film_id: UUID, user_id: str) -> FilmRatingSummary:
        found = self.films[film_id]
        mine = self.scores.get((user_id, film_id))
        return rating_summary(
            film_id,
            count=found.count,
            total=found.total,
            distribution=found.distribution,
            my_score=mine.score if mine else None,
        )

    async def mine(self, *, user_id: str, limit: int, after: str | None) -> Page[Rating]:
        mine = [r for (user, _), r in reversed(self.scores.items()) if user == user_id]
        return _page(mine, limit, after)


class FakeReviews:
    def __init__(self) -> None:
        self.reviews: dict[str, Review] = {}
        self.votes: dict[tuple[str, str], int] = {}
        self.author_scores: dict[tuple[str, UUID], int | None] = {}
        self.film_counts: dict[UUID, int] = defaultdict(int)
        self._ids = (f"{n:024x}" for n in itertools.count(1))

    async def create(self, *, user_id: str, film_id: UUID, review: ReviewIn) -> Review:
        if any(r.author_id == user_id and r.film_id == film_id for r in self.reviews.values()):
            raise AlreadyExists("You have reviewed this film already; edit that review instead.")
        now = datetime.now(UTC)
        made = Review(
            id=next(self._ids),
            film_id=film_id,
            author_id=user_id,
            text=review.text,
            spoiler=review.spoiler,
            likes=0,
            dislikes=0,
            score=0,
            author_score=self.author_scores.get((user_id, film_id)),
            created_at=now,
            updated_at=now,
        )
        self.reviews[made.id] = made
        self.film_counts[film_id] += 1
        return made

    async def get(self, review_id: str) -> Review:
        found = self.reviews.get(review_id)
        if found is None:
            raise NotFound("No review has this id.")
        score = self.author_scores.get((found.author_id, found.film_id))
        return found.model_copy(update={"author_score": score})

    async def update(self, *, review_id: str, patch: ReviewPatch) -> Review:
        found = await self.get(review_id)
        changes = patch.model_dump(exclude_none=True) | {"updated_at": datetime.now(UTC)}
        self.reviews[review_id] = found.model_copy(update=changes)
        return self.reviews[review_id]

    async def delete(self, *, review_id: str, film_id: UUID) -> None:
        if self.reviews.pop(review_id, None) is None:
            raise NotFound("No review has this id.")
        self.votes = {k: v for k, v in self.votes.items() if k[0] != review_id}
        self.film_counts[film_id] -= 1

    async def vote(self, *, review_id: str, user_id: str, value: VoteValue | None) -> VoteResult:
        review = await self.get(review_id)
        after = points(value)
        move = vote_move(self.votes.pop((review_id, user_id), 0), after)
        if after:
            self.votes[review_id, user_id] = after
        counted = review.model_copy(
            update={
                "likes": review.likes + move.likes,
                "dislikes": review.dislikes + move.dislikes,
                "score": review.score + move.score,
            }
        )
        self.reviews[review_id] = counted
        return VoteResult(
            review_id=review_id,
            likes=counted.likes,
            dislikes=counted.dislikes,
            score=counted.score,
            my_vote=value,
        )


class FakeReviewPages:
    def __init__(self, reviews: FakeReviews) -> None:
        self._reviews = reviews

    async def page(
        self, *, film_id: UUID, sort: ReviewSort, limit: int, after: str | None
    ) -> Page[Review]:
        found = [r for r in reversed(self._reviews.reviews.values()) if r.film_id == film_id]
        if sort is ReviewSort.score:
            found.sort(key=lambda r: r.score, reverse=True)
        page = _page(found, limit, after)
        assert page.total == self._reviews.film_counts[film_id], "the film's count drifted"
        return page


class FakeBookmarks:
    def __init__(self) -> None:
        self.marks: dict[tuple[str, UUID], Bookmark] = {}
        self.user_counts: dict[str, int] = defaultdict(int)

    async def add(self, *, user_id: str, film_id: UUID) -> tuple[Bookmark, bool]:
        found = self.marks.get((user_id, film_id))
        if found is not None:
            return found, False
        made = Bookmark(film_id=film_id, created_at=datetime.now(UTC))
        self.marks[user_id, film_id] = made
        self.user_counts[user_id] += 1
        return made, True

    async def remove(self, *, user_id: str, film_id: UUID) -> None:
        if self.marks.pop((user_id, film_id), None) is None:
            raise NotFound("This film is not in your bookmarks.")
        self.user_counts[user_id] -= 1

    async def page(self, *, user_id: str, limit: int, after: str | None) -> Page[Bookmark]:
        mine = [b for (user, _), b in reversed(self.marks.items()) if user == user_id]
        page = _page(mine, limit, after)
        assert page.total == self.user_counts[user_id], "the user's count drifted"
        return page


def fake_stores() -> Stores:
    ratings, reviews = FakeRatings(), FakeReviews()
    ratings.reviews = reviews
    return Stores(
        ratings=ratings,
        reviews=reviews,
        review_pages=FakeReviewPages(reviews),
        bookmarks=FakeBookmarks(),
    )
