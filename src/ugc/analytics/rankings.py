"""Top films of the standard windows (the last 7 and 30 days), kept ready.

Ranking films by distinct viewers over a period merges a viewer state per film
and day: tens of milliseconds when events come in viewing sessions, but close to
half a second at 10M events when every event is another viewer of another film.
The windows that pages ask for all the time are computed here in the background
every `analytics_rankings_refresh_s` and answered from memory, with an `Age`,
for as long as the last refresh succeeded; any other period is computed when
asked.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Generic, TypeVar

from ugc.analytics.models import TopFilm
from ugc.analytics.queries import AnalyticsQueries

log = logging.getLogger(__name__)
K = TypeVar("K")
V = TypeVar("V")


def utc_today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True, slots=True)
class _Ranking(Generic[V]):
    films: list[V]
    computed_at: float  # time.monotonic()


class KeptReady(ABC, Generic[K, V]):
    """Rankings computed in the background and answered from memory, with their age
    in seconds, for as long as the last refresh succeeded."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._rankings: dict[K, _Ranking[V]] = {}

    @abstractmethod
    async def compute(self) -> dict[K, list[V]]:
        """Every ranking kept, its top `keep` each, computed now."""

    async def refresh(self) -> None:
        """Compute every ranking now; the ones no longer computed are dropped."""
        computed = await self.compute()
        now = time.monotonic()
        self._rankings = {key: _Ranking(films, now) for key, films in computed.items()}

    def ready(self, key: K, limit: int) -> tuple[list[V], int] | None:
        """The top `limit` of a ranking and its age in seconds, when it is ready."""
        ranking = self._rankings.get(key)
        if ranking is None or (limit > len(ranking.films) and len(ranking.films) >= self._keep):
            return None
        return ranking.films[:limit], int(time.monotonic() - ranking.computed_at)

    async def refresh_or_forget(self) -> None:
        """Refresh; when that fails, forget the old rankings, so that they are
        computed when asked instead of answered ever more stale."""
        try:
            await self.refresh()
        except Exception:  # the refresher must outlive any failure
            self._rankings = {}
            log.warning("%s not refreshed; computed when asked", type(self).__name__, exc_info=True)

    async def keep_fresh(self, every_s: float) -> None:
        """Refresh every `every_s` seconds until cancelled."""
        while True:
            await self.refresh_or_forget()
            await asyncio.sleep(every_s)


class TopFilmsRankings(KeptReady[tuple[date, date], TopFilm]):
    """The top `keep` films of each window ending today."""

    def __init__(
        self,
        queries: AnalyticsQueries,
        *,
        windows_days: Sequence[int],
        keep: int,
        today: Callable[[], date] = utc_today,
    ) -> None:
        super().__init__(keep)
        self._queries = queries
        self._windows = tuple(windows_days)
        self._today = today

    async def compute(self) -> dict[tuple[date, date], list[TopFilm]]:
        until = self._today()
        fresh = {}
        for days in self._windows:
            since = until - timedelta(days=days)
            fresh[(since, until)] = await self._queries.top_films(since, until, self._keep)
        return fresh

    def lookup(self, since: date, until: date, limit: int) -> tuple[list[TopFilm], int] | None:
        """The top `limit` films of the period and their age in seconds, when ready."""
        return self.ready((since, until), limit)
