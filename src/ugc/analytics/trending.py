"""Trending films: distinct viewers of the last day or week, the recent ones
weighing more.

A film's score is the sum, over the viewers who played it in the window, of
0.5^(age / half-life), where age is the whole hours from the hour the viewer last
played it to the current hour (the current hour counts 1). The window is the last
24 or 168 hours, the current one included. The scores are computed from
`film_viewer_hours` (a viewer, a film, an hour) in the background, like the top
films, and answered from memory with an `Age`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum

from ugc.analytics.models import TrendingFilm
from ugc.analytics.queries import AnalyticsQueries
from ugc.analytics.rankings import KeptReady


class Window(StrEnum):
    day = "day"
    week = "week"


HOURS = {Window.day: 24, Window.week: 7 * 24}


def this_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


async def trending(
    queries: AnalyticsQueries,
    database: str,
    *,
    window: Window,
    half_life_h: float,
    limit: int,
    now: datetime,
) -> list[TrendingFilm]:
    """The `limit` films of the highest scores in the window ending at `now`'s hour."""
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    rows = await queries.rows(
        f"""
        SELECT film_id,
               sum(pow(0.5, dateDiff('hour', last_hour, {{now:DateTime('UTC')}})
                            / {{half_life:Float64}})) AS score,
               count() AS viewers
        FROM (
            SELECT film_id, user_id, max(hour) AS last_hour
            FROM {database}.film_viewer_hours
            WHERE hour > {{now:DateTime('UTC')}} - toIntervalHour({{hours:UInt32}})
              AND hour <= {{now:DateTime('UTC')}}
            GROUP BY film_id, user_id
        )
        GROUP BY film_id
        ORDER BY score DESC, film_id
        LIMIT {{limit:UInt32}}
        """,  # noqa: S608 - the database name is a validated identifier
        {
            "now": hour.strftime("%Y-%m-%d %H:%M:%S"),
            "half_life": half_life_h,
            "hours": HOURS[window],
            "limit": limit,
        },
    )
    return [TrendingFilm(**row) for row in rows]


class TrendingFilms(KeptReady[Window, TrendingFilm]):
    """The top `keep` trending films of each window, kept ready."""

    def __init__(
        self,
        queries: AnalyticsQueries,
        database: str,
        *,
        half_life_h: float,
        keep: int,
        clock: Callable[[], datetime] = this_hour,
    ) -> None:
        super().__init__(keep)
        self._queries = queries
        self._db = database
        self._half_life_h = half_life_h
        self._clock = clock

    async def ask(self, window: Window, limit: int) -> list[TrendingFilm]:
        """Computed now, for when the kept ranking is not ready."""
        return await trending(
            self._queries,
            self._db,
            window=window,
            half_life_h=self._half_life_h,
            limit=limit,
            now=self._clock(),
        )

    async def compute(self) -> dict[Window, list[TrendingFilm]]:
        return {window: await self.ask(window, self._keep) for window in Window}
