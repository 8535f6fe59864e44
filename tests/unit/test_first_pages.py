"""A film's first review pages kept in the process: read once within the window,
forgotten at once by this process's own writes, never kept when a write overtook
the read; other processes' writes show when the window ends."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from uuid import UUID

import pytest

from tests.unit.fakes.content import fake_stores
from ugc.content.first_pages import FirstPages, Listing
from ugc.content.models import Review, ReviewIn, ReviewSort, VoteValue
from ugc.content.ports import ReviewPages
from ugc.content.service import ContentService
from ugc.web.cursor import Page

pytestmark = pytest.mark.unit

FILM = uuid.UUID("6b0b7e92-07e4-48ad-b93c-808a0d3c1f2e")
TEXT = "A film worth every minute of it."


class CountedPages:
    """The store's pages, counting the reads that reach it; `during` runs inside a
    read, after the store answered and before the page is returned."""

    def __init__(self, inner: ReviewPages) -> None:
        self.inner = inner
        self.reads = 0
        self.during: list[object] = []

    async def page(self, **listing: object) -> Page[Review]:
        self.reads += 1
        found = await self.inner.page(**listing)  # type: ignore[arg-type]
        while self.during:
            await self.during.pop()  # type: ignore[misc]
        return found


class Clock:
    """The time the kept pages see, moved by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def two_processes(
    ttl_s: float, clock: Clock | None = None
) -> tuple[ContentService, ContentService, CountedPages]:
    """Two services on the same stores, as two API processes on one database."""
    stores = fake_stores()
    counted = CountedPages(stores.review_pages)
    ours = dataclasses.replace(stores, review_pages=counted)
    clock = clock or Clock()
    return (
        ContentService(ours, first_pages=FirstPages(ttl_s=ttl_s, clock=clock)),
        ContentService(stores, first_pages=FirstPages(ttl_s=ttl_s, clock=clock)),
        counted,
    )


async def first_page(content: ContentService, sort: ReviewSort = ReviewSort.newest) -> Page[Review]:
    return await content.film_reviews(film_id=FILM, sort=sort, limit=20, after=None)


async def test_a_first_page_is_read_once_within_the_window_and_a_write_here_shows_at_once() -> None:
    ours, theirs, counted = two_processes(ttl_s=60)
    await ours.write_review(user_id="alice", film_id=FILM, review=ReviewIn(text=TEXT))
    assert (await first_page(ours)).total == 1
    assert (await first_page(ours)).total == 1
    assert counted.reads == 1

    # Another process's review is not seen here within the window ...
    await theirs.write_review(user_id="bob", film_id=FILM, review=ReviewIn(text=TEXT))
    assert (await first_page(ours)).total == 1
    # ... this process's own write is, at once, with the other's.
    await ours.write_review(user_id="carol", film_id=FILM, review=ReviewIn(text=TEXT))
    assert (await first_page(ours)).total == 3
    assert counted.reads == 2

    # Each order is a listing of its own; later pages are never kept.
    await first_page(ours, ReviewSort.helpful)
    assert counted.reads == 3
    page = await ours.film_reviews(film_id=FILM, sort=ReviewSort.newest, limit=1, after=None)
    assert page.next_cursor is not None
    for _ in range(2):
        await ours.film_reviews(
            film_id=FILM, sort=ReviewSort.newest, limit=1, after=page.next_cursor
        )
    assert counted.reads == 6


async def test_a_vote_here_on_a_shown_review_shows_at_once() -> None:
    ours, _, _ = two_processes(ttl_s=60)
    review = await ours.write_review(user_id="alice", film_id=FILM, review=ReviewIn(text=TEXT))
    assert (await first_page(ours)).items[0].likes == 0
    await ours.vote(review_id=review.id, user_id="bob", value=VoteValue.like)
    assert (await first_page(ours)).items[0].likes == 1


async def test_a_read_a_write_overtook_is_not_kept() -> None:
    ours, _, counted = two_processes(ttl_s=60)
    write = ours.write_review(user_id="alice", film_id=FILM, review=ReviewIn(text=TEXT))
    counted.during.append(write)  # commits after the store answered, before the page returns
    assert (await first_page(ours)).total == 0
    assert (await first_page(ours)).total == 1
    assert counted.reads == 2


async def test_other_processes_writes_show_when_the_window_ends() -> None:
    clock = Clock()
    ours, theirs, _ = two_processes(ttl_s=5, clock=clock)
    await first_page(ours)
    await theirs.write_review(user_id="bob", film_id=FILM, review=ReviewIn(text=TEXT))
    clock.now = 5.0
    assert (await first_page(ours)).total == 1


async def test_nothing_is_kept_with_a_window_of_zero() -> None:
    ours, _, counted = two_processes(ttl_s=0)
    await first_page(ours)
    await first_page(ours)
    assert counted.reads == 2


async def test_a_page_asked_for_late_in_its_window_is_served_and_read_again_behind() -> None:
    clock = Clock()
    ours, theirs, counted = two_processes(ttl_s=5, clock=clock)
    await first_page(ours)
    await theirs.write_review(user_id="bob", film_id=FILM, review=ReviewIn(text=TEXT))
    clock.now = 4.6  # past nine tenths of the window: due to be read again
    assert (await first_page(ours)).total == 0  # answered from memory, no wait ...
    await ours.first_pages.reading.settle()
    assert counted.reads == 2  # ... while the page was read again behind it
    assert (await first_page(ours)).total == 1
    assert counted.reads == 2


async def test_a_read_ahead_a_write_here_overtook_is_not_kept() -> None:
    clock = Clock()
    ours, _, counted = two_processes(ttl_s=5, clock=clock)
    await first_page(ours)
    clock.now = 4.6
    write = ours.write_review(user_id="alice", film_id=FILM, review=ReviewIn(text=TEXT))
    counted.during.append(write)  # the write commits while the page is read again
    assert (await first_page(ours)).total == 0
    await ours.first_pages.reading.settle()
    assert (await first_page(ours)).total == 1
    assert counted.reads == 3  # the overtaken read was dropped, the page read anew


async def test_pages_filled_together_are_read_again_spread_over_the_window() -> None:
    """What Recent's spread expiry did for them: 200 films' pages filled at once
    are due again between 70% and 90% of the window, not all at one instant."""
    clock = Clock()
    pages = FirstPages(ttl_s=1.0, films=1_000, clock=clock)
    reads: list[UUID] = []

    def reader(film: UUID) -> Callable[[], Awaitable[Page[Review]]]:
        async def read() -> Page[Review]:
            reads.append(film)
            return Page[Review](items=[], total=0, next_cursor=None)

        return read

    films = [uuid.uuid4() for _ in range(200)]
    listing = Listing(ReviewSort.newest, verified=False, limit=20)

    async def due_at(now: float) -> int:
        clock.now, before = now, len(reads)
        for film in films:
            await pages.first(film, listing, reader(film))
        await pages.reading.settle()
        return len(reads) - before

    assert await due_at(0.0) == 200  # filled
    assert await due_at(0.69) == 0
    early = await due_at(0.8)
    assert 20 < early < 180
    assert await due_at(0.95) == 200 - early  # the rest, each read again once
