"""In-memory content stores: each satisfies its port in `ugc.content.ports`, and
moves its counters with `ugc.content.rules`, as the MongoDB adapters do; the
unit tests run the content service over them."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

from ugc.content.errors import AlreadyExists, NotFound, NotYours
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
    ReviewStatus,
    VoteResult,
    VoteValue,
)
from ugc.content.ports import Stores
from ugc.content.rules import helpfulness, points, rating_move, rating_summary, vote_move
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
        self.withheld: dict[str, Review] = {}  # hidden or removed by moderation
        self.checked_at: dict[str, datetime] = {}
        self._ids = (f"{n:024x}" for n in itertools.count(1))

    async def create(self, *, user_id: str, film_id: UUID, review: ReviewIn) -> Review:
        everyone = [*self.reviews.values(), *self.withheld.values()]
        if any(r.author_id == user_id and r.film_id == film_id for r in everyone):
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
            helpfulness=0.0,
            author_score=self.author_scores.get((user_id, film_id)),
            author_viewing=None,
            verified=False,
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

    async def find(self, review_id: str) -> Review:
        if review_id in self.withheld:
            return self.withheld[review_id]
        return await self.get(review_id)

    async def set_viewings(self, found: Sequence[tuple[str, AuthorViewing, bool]]) -> None:
        for review_id, viewing, verified in found:
            marks = {"author_viewing": viewing, "verified": verified}
            for shelf in (self.reviews, self.withheld):
                if review_id in shelf:
                    shelf[review_id] = shelf[review_id].model_copy(update=marks)
            self.checked_at[review_id] = viewing.as_of

    async def stale(self, *, checked_before: datetime, limit: int) -> list[Review]:
        never = datetime.min.replace(tzinfo=UTC)
        due = [
            r for r in self.reviews.values() if self.checked_at.get(r.id, never) < checked_before
        ]
        return sorted(due, key=lambda r: self.checked_at.get(r.id, never))[:limit]

    async def update(self, *, review_id: str, patch: ReviewPatch) -> Review:
        found = await self.get(review_id)
        changes = patch.model_dump(exclude_none=True) | {"updated_at": datetime.now(UTC)}
        self.reviews[review_id] = found.model_copy(update=changes)
        return self.reviews[review_id]

    async def delete(self, *, review_id: str, film_id: UUID) -> None:
        if self.reviews.pop(review_id, None) is not None:
            self.film_counts[film_id] -= 1
        elif self.withheld.pop(review_id, None) is None:
            raise NotFound("No review has this id.")
        self.votes = {k: v for k, v in self.votes.items() if k[0] != review_id}

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
                "helpfulness": helpfulness(
                    review.likes + move.likes, review.dislikes + move.dislikes
                ),
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
        self,
        *,
        film_id: UUID,
        sort: ReviewSort,
        limit: int,
        after: str | None,
        verified: bool = False,
    ) -> Page[Review]:
        found = [r for r in reversed(self._reviews.reviews.values()) if r.film_id == film_id]
        if not verified:
            assert len(found) == self._reviews.film_counts[film_id], "the film's count drifted"
        found = [r for r in found if r.verified or not verified]
        if sort is ReviewSort.score:
            found.sort(key=lambda r: r.score, reverse=True)
        elif sort is ReviewSort.helpful:
            found.sort(key=lambda r: r.helpfulness, reverse=True)
        return _page(found, limit, after)


class FakeModeration:
    """Reports and moderators' decisions over the fake reviews, by the same rules."""

    def __init__(self, reviews: FakeReviews, hide_after: int = 5) -> None:
        self._reviews = reviews
        self._hide_after = hide_after
        self.reports: dict[tuple[str, str], Report] = {}
        self.log: list[ModerationAction] = []

    async def report(self, *, review_id: str, user_id: str, report: ReportIn) -> Report:
        review = await self._reviews.get(review_id)
        if review.author_id == user_id:
            raise NotYours("You cannot report your own review.")
        now = datetime.now(UTC)
        before = self.reports.get((review_id, user_id))
        made = Report(
            review_id=review_id,
            reason=report.reason,
            text=report.text,
            open=before.open if before else True,
            created_at=before.created_at if before else now,
            updated_at=now,
        )
        self.reports[review_id, user_id] = made
        if len(self._open(review_id)) >= self._hide_after:
            self._withhold(review, ReviewStatus.hidden, None)
        return made

    async def restore(self, *, review_id: str, moderator_id: str) -> Review:
        review = await self._reviews.find(review_id)
        if self._reviews.withheld.pop(review_id, None) is not None:
            review = review.model_copy(
                update={"status": ReviewStatus.visible, "removal_reason": None}
            )
            self._reviews.reviews[review_id] = review
            self._reviews.film_counts[review.film_id] += 1
        self._close(review_id)
        self._record(review_id, moderator_id, "restore", None)
        return review

    async def remove(self, *, review_id: str, moderator_id: str, reason: str) -> Review:
        review = self._withhold(await self._reviews.find(review_id), ReviewStatus.removed, reason)
        self._close(review_id)
        self._record(review_id, moderator_id, "remove", reason)
        return review

    async def queue(
        self, *, status: ModerationStatus, limit: int, after: str | None
    ) -> Page[ModeratedReview]:
        if status is ModerationStatus.reported:
            found = [r for r in self._reviews.reviews.values() if self._open(r.id)]
        else:
            found = [r for r in self._reviews.withheld.values() if r.status.value == status.value]
        items = []
        for review in found:
            reasons: dict[str, int] = defaultdict(int)
            for report in self._open(review.id):
                reasons[report.reason.value] += 1
            first = min((r.created_at for r in self._open(review.id)), default=None)
            items.append(ModeratedReview(review=review, reports=dict(reasons), reported_at=first))
        return _page(items, limit, after)

    async def actions(self, *, limit: int, after: str | None) -> Page[ModerationAction]:
        return _page(list(reversed(self.log)), limit, after)

    def _open(self, review_id: str) -> list[Report]:
        return [r for (rid, _), r in self.reports.items() if rid == review_id and r.open]

    def _close(self, review_id: str) -> None:
        for key, report in self.reports.items():
            if key[0] == review_id:
                self.reports[key] = report.model_copy(update={"open": False})

    def _withhold(self, review: Review, status: ReviewStatus, reason: str | None) -> Review:
        if self._reviews.reviews.pop(review.id, None) is not None:
            self._reviews.film_counts[review.film_id] -= 1
        withheld = review.model_copy(update={"status": status, "removal_reason": reason})
        self._reviews.withheld[review.id] = withheld
        return withheld

    def _record(self, review_id: str, moderator_id: str, action: str, reason: str | None) -> None:
        self.log.append(
            ModerationAction(
                id=f"{len(self.log) + 1:024x}",
                review_id=review_id,
                moderator_id=moderator_id,
                action="restore" if action == "restore" else "remove",
                reason=reason,
                at=datetime.now(UTC),
            )
        )


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


class FakeAccounts:
    def __init__(self) -> None:
        self.erasures: set[str] = set()

    async def erased(self, user_id: str) -> bool:
        return user_id in self.erasures


def fake_stores() -> Stores:
    ratings, reviews = FakeRatings(), FakeReviews()
    ratings.reviews = reviews
    return Stores(
        ratings=ratings,
        reviews=reviews,
        review_pages=FakeReviewPages(reviews),
        bookmarks=FakeBookmarks(),
        moderation=FakeModeration(reviews),
        accounts=FakeAccounts(),
    )
