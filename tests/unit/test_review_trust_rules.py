"""The review rules over in-memory stores: helpfulness, verification from a
reviewer's viewing (and when the warehouse does not answer), reports and
moderation."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

import pytest

from tests.unit.fakes.content import fake_stores
from ugc.auth import Principal
from ugc.content.errors import NotFound, NotYours
from ugc.content.models import (
    AuthorViewing,
    ModerationStatus,
    ReportIn,
    ReportReason,
    ReviewIn,
    ReviewSort,
    ReviewStatus,
    VoteValue,
)
from ugc.content.rules import helpfulness, is_verified
from ugc.content.service import ContentService

pytestmark = pytest.mark.unit

FILM = uuid.uuid4()
TEXT = "An honest review that is long enough to pass."
READER = Principal(user_id="reader", roles=frozenset())
MODERATOR = Principal(user_id="mod", roles=frozenset({"moderator"}))


def wilson_by_hand(likes: int, dislikes: int) -> float:
    n, z = likes + dislikes, 1.96
    p = likes / n
    return (p + z * z / (2 * n) - z * math.sqrt((p * (1 - p) + z * z / (4 * n)) / n)) / (
        1 + z * z / n
    )


@pytest.mark.parametrize(("likes", "dislikes"), [(1, 0), (9, 1), (90, 10), (3, 7), (0, 4)])
def test_helpfulness_is_the_wilson_lower_bound(likes: int, dislikes: int) -> None:
    assert helpfulness(likes, dislikes) == pytest.approx(
        max(0.0, wilson_by_hand(likes, dislikes)), abs=1e-4
    )


def test_one_like_of_one_does_not_beat_ninety_of_a_hundred() -> None:
    assert helpfulness(1, 0) < helpfulness(90, 10)
    assert helpfulness(0, 0) == 0.0


def test_a_reviewer_is_verified_by_finishing_or_by_watching_enough() -> None:
    assert is_verified(progress=0.6, viewings=0, verified_fraction=0.5)
    assert not is_verified(progress=0.1, viewings=0, verified_fraction=0.5)
    assert is_verified(progress=0.1, viewings=1, verified_fraction=0.5)  # finished, then rewatched


class Watched:
    """A warehouse that knows what each author watched, or does not answer."""

    def __init__(self, progress: dict[str, float]) -> None:
        self.progress = progress
        self.down = False

    async def of(
        self, film_id: uuid.UUID, authors: Iterable[str]
    ) -> dict[str, AuthorViewing] | None:
        del film_id
        if self.down:
            return None
        now = datetime.now(UTC)
        return {
            a: AuthorViewing(
                progress=self.progress.get(a, 0.0), completed=False, viewings=0, as_of=now
            )
            for a in authors
        }


async def test_the_verified_mark_follows_the_warehouse_and_survives_its_outage() -> None:
    warehouse = Watched({"watcher": 0.6, "skimmer": 0.1})
    content = ContentService(fake_stores(), viewings=warehouse, viewing_ttl_s=0.0)
    watcher = await content.write_review(
        user_id="watcher", film_id=FILM, review=ReviewIn(text=TEXT)
    )
    skimmer = await content.write_review(
        user_id="skimmer", film_id=FILM, review=ReviewIn(text=TEXT)
    )
    assert (watcher.verified, skimmer.verified) == (True, False)

    warehouse.progress["skimmer"] = 0.7
    page = await content.film_reviews(film_id=FILM, sort=ReviewSort.newest, limit=10, after=None)
    assert {r.author_id: r.verified for r in page.items} == {"watcher": True, "skimmer": True}

    warehouse.down = True  # the figures last read stand; the reviews are served
    page = await content.film_reviews(film_id=FILM, sort=ReviewSort.newest, limit=10, after=None)
    assert {r.author_id: r.author_viewing.progress for r in page.items if r.author_viewing} == {
        "watcher": 0.6,
        "skimmer": 0.7,
    }
    verified = await content.film_reviews(
        film_id=FILM, sort=ReviewSort.newest, limit=10, after=None, verified=True
    )
    assert verified.total == 2


async def test_reports_hide_and_moderators_decide() -> None:
    content = ContentService(fake_stores())
    review = await content.write_review(user_id="author", film_id=FILM, review=ReviewIn(text=TEXT))
    spam = ReportIn(reason=ReportReason.spam)
    with pytest.raises(NotYours):
        await content.report(review_id=review.id, user_id="author", report=spam)
    for number in range(5):
        await content.report(review_id=review.id, user_id=f"r{number}", report=spam)

    page = await content.film_reviews(film_id=FILM, sort=ReviewSort.newest, limit=10, after=None)
    assert page.total == 0
    with pytest.raises(NotFound):
        await content.review(review.id, reader=READER)
    mine = await content.review(review.id, reader=Principal(user_id="author", roles=frozenset()))
    assert mine.status is ReviewStatus.hidden
    with pytest.raises(NotFound):
        await content.vote(review_id=review.id, user_id="voter", value=VoteValue.like)

    hidden = await content.moderation_queue(status=ModerationStatus.hidden, limit=10, after=None)
    assert [(m.review.id, m.reports) for m in hidden.items] == [(review.id, {"spam": 5})]
    await content.restore(review_id=review.id, moderator_id=MODERATOR.user_id)
    for number in range(5):  # the same reports, again: closed, they hide nothing
        await content.report(review_id=review.id, user_id=f"r{number}", report=spam)
    assert (await content.review(review.id, reader=READER)).status is ReviewStatus.visible

    removed = await content.remove(review_id=review.id, moderator_id="mod", reason="Spam links.")
    assert (removed.status, removed.removal_reason) == (ReviewStatus.removed, "Spam links.")
    log = await content.moderation_actions(limit=10, after=None)
    assert [(a.action, a.reason) for a in log.items] == [
        ("remove", "Spam links."),
        ("restore", None),
    ]


async def test_the_background_refresh_reads_the_stalest_and_counts_only_what_it_read() -> None:
    warehouse = Watched({"a": 0.9})
    content = ContentService(fake_stores(), viewings=warehouse, viewing_ttl_s=0.0)
    warehouse.down = True
    for author in ("a", "b", "c"):
        await content.write_review(user_id=author, film_id=FILM, review=ReviewIn(text=TEXT))
    assert await content.refresh_stale_viewings(limit=2) == 0  # down: nothing read, so a pause

    warehouse.down = False
    assert await content.refresh_stale_viewings(limit=2) == 2
    assert await content.refresh_stale_viewings(limit=5) == 3  # the TTL is 0: all due again
    page = await content.film_reviews(
        film_id=FILM, sort=ReviewSort.newest, limit=10, after=None, verified=True
    )
    assert [r.author_id for r in page.items] == ["a"]
