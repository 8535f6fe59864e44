"""A film's first review pages, kept for a few seconds by each API process.

Every film page opens on the first page of its reviews, and that page changes
far more rarely than it is read. Measured on the local MongoDB-protocol server
at 100,000 reviews, a page cost the server about ten times a `find_one` (it reads
every review of the film to sort them); a popular film's page is asked for many
times a second. So each process keeps a listing's first page (its order, whether
verified only, its size) for `ttl_s`:

- this process's own writes to the film (a review written, edited, deleted,
  reported, moderated; a vote on a review the kept pages show; viewing figures
  read again) forget the film's pages at once, so a writer reads their write;
- other processes' writes, and votes moving a review not shown onto a first
  page, show within `ttl_s` — the same window in which first pages by score or
  helpfulness already walk the last frozen ranking (`store.review_pages`).

Later pages are never kept: their cursor already pins what they show.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from uuid import UUID

from ugc.content.models import Review, ReviewSort
from ugc.content.store.recent import Recent
from ugc.web.cursor import Page


@dataclass(frozen=True, slots=True)
class Listing:
    sort: ReviewSort
    verified: bool
    limit: int


class FirstPages:
    def __init__(self, *, ttl_s: float, films: int = 2_000) -> None:
        self.enabled = ttl_s > 0
        self._pages: Recent[str, dict[Listing, Page[Review]]] = Recent(ttl_s=ttl_s, size=films)
        # The film of each review a kept page shows: a vote names only the review.
        self._film_of: OrderedDict[str, str] = OrderedDict()
        self._reviews_kept = films * 100

    def get(self, film_id: UUID, listing: Listing) -> Page[Review] | None:
        if not self.enabled:
            return None
        kept = self._pages.get(str(film_id))
        return None if kept is None else kept.get(listing)

    def stamp(self) -> int:
        """Taken before the read that will be `put`: a forget after it voids the put."""
        return self._pages.stamp()

    def put(self, film_id: UUID, listing: Listing, page: Page[Review], *, read_since: int) -> None:
        if not self.enabled:
            return
        film = str(film_id)
        kept = self._pages.get(film) or {}
        self._pages.put(film, kept | {listing: page}, read_since=read_since)
        for review in page.items:
            self._film_of[review.id] = film
            self._film_of.move_to_end(review.id)
        while len(self._film_of) > self._reviews_kept:
            self._film_of.popitem(last=False)

    def forget(self, film_id: UUID | str) -> None:
        if self.enabled:
            self._pages.forget(str(film_id))

    def forget_review(self, review_id: str) -> None:
        """Forget the pages of the film whose kept pages show this review, if any."""
        film = self._film_of.get(review_id)
        if film is not None:
            self.forget(film)
