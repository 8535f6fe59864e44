"""A film's first review pages, kept for a few seconds by each API process and
read again ahead of their end.

Every film page opens on the first page of its reviews, and that page changes
far more rarely than it is read. Measured on the local MongoDB-protocol server
at 100,000 reviews, a page cost the server about ten times a `find_one` (it reads
every review of the film to sort them); a popular film's page is asked for many
times a second. So each process keeps a listing's first page (its order, whether
verified only, its size) for at most `ttl_s`:

- this process's own writes to the film (a review written, edited, deleted,
  reported, moderated; a vote on a review the kept pages show; viewing figures
  read again) forget the film's pages at once, so a writer reads their write;
- other processes' writes, and votes moving a review not shown onto a first
  page, show within `ttl_s`;
- the first request past 70-90% of the window (spread, so pages filled
  together are not read again together) is still answered from memory, and the
  page is read again in the background: a page read often never makes a viewer
  wait for the database. Only a page nobody asked for in the rest of its
  window, or one this process wrote to, is read on a request.

The pages of a film are one entry of a `Recent`, which voids a read that a
forget of the film overtook. Later pages are never kept: their cursor already
pins what they show.
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from ugc.content.background import Background
from ugc.content.models import Review, ReviewSort
from ugc.content.store.recent import Recent
from ugc.web.cursor import Page

Read = Callable[[], Awaitable[Page[Review]]]


@dataclass(frozen=True, slots=True)
class Listing:
    sort: ReviewSort
    verified: bool
    limit: int


@dataclass(slots=True)
class _Kept:
    page: Page[Review]
    read_again_at: float
    ends_at: float


class FirstPages:
    def __init__(
        self,
        *,
        ttl_s: float,
        films: int = 2_000,
        reads_at_once: int = 4,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = ttl_s > 0
        self._ttl = ttl_s
        self._clock = clock
        self._pages: Recent[str, dict[Listing, _Kept]] = Recent(
            ttl_s=ttl_s, size=films, clock=clock
        )
        # The film of each review a kept page shows: a vote names only the review.
        self._film_of: OrderedDict[str, str] = OrderedDict()
        self._reviews_kept = films * 100
        self.reading = Background[tuple[str, Listing]]("a first page's read", at_once=reads_at_once)

    async def first(self, film_id: UUID, listing: Listing, read: Read) -> Page[Review]:
        """The listing's first page: kept, or `read` (and kept)."""
        if not self.enabled:
            return await read()
        film = str(film_id)
        kept = (self._pages.get(film) or {}).get(listing)
        now = self._clock()
        if kept is not None and now < kept.ends_at:
            if now >= kept.read_again_at:
                kept.read_again_at = kept.ends_at  # one read ahead per page
                self.reading.soon((film, listing), lambda: self._read(film, listing, read))
            return kept.page
        return await self._read(film, listing, read)

    async def _read(self, film: str, listing: Listing, read: Read) -> Page[Review]:
        since = self._pages.stamp()
        page = await read()
        now = self._clock()
        spread = 0.7 + 0.2 * random.random()  # noqa: S311 - not secret
        kept = _Kept(page, now + self._ttl * spread, now + self._ttl)
        # Voided when a write here overtook the read: the film's other pages stay.
        self._pages.put(film, (self._pages.get(film) or {}) | {listing: kept}, read_since=since)
        for review in page.items:
            self._film_of[review.id] = film
            self._film_of.move_to_end(review.id)
        while len(self._film_of) > self._reviews_kept:
            self._film_of.popitem(last=False)
        return page

    def forget(self, film_id: UUID | str) -> None:
        if self.enabled:
            self._pages.forget(str(film_id))

    def forget_review(self, review_id: str) -> None:
        """Forget the pages of the film whose kept pages show this review, if any."""
        film = self._film_of.get(review_id)
        if film is not None:
            self.forget(film)
