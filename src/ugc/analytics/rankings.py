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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ugc.analytics.models import TopFilm
from ugc.analytics.queries import AnalyticsQueries

log = logging.getLogger(__name__)


def utc_today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True, slots=True)
class _Ranking:
    films: list[TopFilm]
    computed_at: float  # time.monotonic()


class TopFilmsRankings:
    """The top `keep` films of each window ending today, refreshed in the background."""

    def __init__(
        self,
        queries: AnalyticsQueries,
        *,
        windows_days: Sequence[int],
        keep: int,
        today: Callable[[], date] = utc_today,
    ) -> None:
        self._queries = queries
        self._windows = tuple(windows_days)
        self._keep = keep
        self._today = today
        self._rankings: dict[tuple[date, date], _Ranking] = {}

    async def refresh(self) -> None:
        """Compute every window now; the ones of earlier days are dropped."""
        until = self._today()
        fresh = {}
        for days in self._windows:
            since = until - timedelta(days=days)
            films = await self._queries.top_films(since, until, self._keep)
            fresh[(since, until)] = _Ranking(films, time.monotonic())
        self._rankings = fresh

    def lookup(self, since: date, until: date, limit: int) -> tuple[list[TopFilm], int] | None:
        """The top `limit` films of the period and their age in seconds, when ready."""
        ranking = self._rankings.get((since, until))
        if ranking is None or (limit > len(ranking.films) and len(ranking.films) >= self._keep):
            return None
        return ranking.films[:limit], int(time.monotonic() - ranking.computed_at)

    async def refresh_or_forget(self) -> None:
        """Refresh; when that fails, forget the old rankings, so that the periods are
        computed when asked instead of answered ever more stale."""
        try:
            await self.refresh()
        except Exception:  # the refresher must outlive any failure
            self._rankings = {}
            log.warning("top films not refreshed; computed when asked", exc_info=True)

    async def keep_fresh(self, every_s: float) -> None:
        """Refresh every `every_s` seconds until cancelled."""
        while True:
            await self.refresh_or_forget()
            await asyncio.sleep(every_s)
