from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

import pytest

from ugc.analytics.queries import AnalyticsQueries
from ugc.analytics.rankings import TopFilmsRankings
from ugc.warehouse.sink import WarehouseUnavailable

pytestmark = pytest.mark.unit

TODAY = date(2026, 11, 29)


class CountingQueries:
    """Stands in for the ClickHouse queries: n films, ranked by their number."""

    def __init__(self, films: int) -> None:
        self.films = films
        self.asked: list[tuple[date, date, int]] = []
        self.down = False

    async def top_films(self, since: date, until: date, limit: int) -> list[dict[str, Any]]:
        if self.down:
            raise WarehouseUnavailable("Code: 210. DB::NetException: Connection refused")
        self.asked.append((since, until, limit))
        return [{"film_id": f"film-{n}", "viewers": self.films - n} for n in range(self.films)][
            :limit
        ]


def rankings(queries: CountingQueries, today: list[date]) -> TopFilmsRankings:
    return TopFilmsRankings(
        cast("AnalyticsQueries", queries), windows_days=[7, 30], keep=5, today=lambda: today[0]
    )


async def test_the_windows_are_answered_once_refreshed_and_other_periods_are_not() -> None:
    queries = CountingQueries(films=20)
    kept = rankings(queries, [TODAY])
    month = TODAY - timedelta(days=30)

    assert kept.lookup(month, TODAY, 3) is None  # nothing computed yet
    await kept.refresh()

    assert queries.asked == [(TODAY - timedelta(days=7), TODAY, 5), (month, TODAY, 5)]
    found = kept.lookup(month, TODAY, 3)
    assert found is not None
    films, age = found
    assert [f["film_id"] for f in films] == ["film-0", "film-1", "film-2"]
    assert age >= 0  # seconds since the refresh
    assert kept.lookup(month, TODAY, 6) is None  # more than were kept
    assert kept.lookup(month + timedelta(days=1), TODAY, 3) is None  # another period


async def test_fewer_films_than_kept_answer_any_limit() -> None:
    kept = rankings(CountingQueries(films=2), [TODAY])
    await kept.refresh()

    found = kept.lookup(TODAY - timedelta(days=7), TODAY, 100)

    assert found is not None
    assert [f["film_id"] for f in found[0]] == ["film-0", "film-1"]


async def test_a_new_day_drops_the_windows_of_the_day_before() -> None:
    today = [TODAY]
    kept = rankings(CountingQueries(films=20), today)
    await kept.refresh()
    today[0] = TODAY + timedelta(days=1)

    await kept.refresh()

    assert kept.lookup(TODAY - timedelta(days=30), TODAY, 3) is None
    assert kept.lookup(today[0] - timedelta(days=30), today[0], 3) is not None


async def test_a_failed_refresh_stops_the_old_rankings_being_served() -> None:
    queries = CountingQueries(films=20)
    kept = rankings(queries, [TODAY])
    month = TODAY - timedelta(days=30)
    await kept.refresh_or_forget()
    assert kept.lookup(month, TODAY, 3) is not None

    queries.down = True
    await kept.refresh_or_forget()

    assert kept.lookup(month, TODAY, 3) is None  # computed when asked from now on
