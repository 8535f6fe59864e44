"""Every per-request analytics query reads the events by the sorting key (a film)
or the `by_user` projection (a viewer): ClickHouse's own plan says how many
granules it reads, and none reads more than a small share of the table."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from ugc.analytics.queries import AnalyticsQueries
from ugc.analytics.viewings import ViewingQueries
from ugc.settings import Settings
from ugc.warehouse.embedded import ChdbSink
from ugc.warehouse.migrations import migrate

pytestmark = pytest.mark.integration

EVENTS = 400_000  # 49 granules of 8,192 rows
VIEWER_ONLY = {"resume points", "distinct films of a viewer", "continue watching", "history"}
_READ = re.compile(r"ReadFromMergeTree \((\S+)\)")
_GRANULES = re.compile(r"Granules: (\d+)/(\d+)")


class PlanningSink:
    """The real sink; every query is first explained, and its plan kept."""

    def __init__(self, sink: ChdbSink) -> None:
        self._sink = sink
        self.plans: list[str] = []

    async def query(
        self, sql: str, parameters: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        plan = await self._sink.query("EXPLAIN indexes = 1, projections = 1 " + sql, parameters)
        self.plans.append("\n".join(str(next(iter(row.values()))) for row in plan))
        return await self._sink.query(sql, parameters)


def reads(plan: str) -> list[tuple[str, int, int]]:
    """(what is read, granules read, granules there are) of each read in a plan."""
    found = []
    sections = _READ.split(plan)[1:]
    for name, body in zip(sections[::2], sections[1::2], strict=True):
        granules = _GRANULES.findall(body)
        if granules:
            read, total = granules[-1]
            found.append((name, int(read), int(total)))
    return found


async def test_each_query_reads_one_film_or_one_viewer_not_the_table(
    base_settings: Settings, warehouse: ChdbSink
) -> None:
    settings = base_settings.replace(clickhouse_database=f"plans_{uuid.uuid4().hex[:8]}")
    database = settings.clickhouse.database
    await migrate(warehouse, settings.clickhouse)
    await warehouse.execute(
        f"""
        INSERT INTO {database}.events (event_id, type, user_id, film_id, schema_version,
                                       received_at, occurred_at, position_sec, duration_sec)
        SELECT generateUUIDv4(number), 'view_progress',
               concat('user-', toString(number % 5000)),
               toUUID(concat('00000000-0000-4000-8000-', leftPad(toString(number % 997), 12, '0'))),
               1, now64(6), now64(6), toFloat64(number % 5400), 5400.
        FROM numbers({EVENTS})
        """
    )
    planning = PlanningSink(warehouse)
    queries = AnalyticsQueries(planning, database)  # type: ignore[arg-type]
    viewings = ViewingQueries(queries, database, settings.viewing)
    user, film = "user-42", uuid.UUID("00000000-0000-4000-8000-000000000042")
    per_request: dict[str, Callable[[], Awaitable[object]]] = {
        "resume points": lambda: queries.resume_points(user, 20),
        "max position": lambda: queries.max_position(user, film),
        "distinct films of a viewer": lambda: queries.distinct_films(user),
        "average position": lambda: queries.average_position(film),
        "distinct viewers of a film": lambda: queries.distinct_viewers(film),
        "continue watching": lambda: viewings.continue_watching(user, 20, None),
        "history": lambda: viewings.history(user, 20, None),
    }
    for name, run in per_request.items():
        planning.plans.clear()
        await run()
        events = [
            r
            for plan in planning.plans
            for r in reads(plan)
            if "events" in r[0] or r[0] == "by_user"
        ]
        assert events, f"{name}: no read of the events in {planning.plans}"
        for what, read, total in events:
            assert total >= 40, (name, what, read, total)
            assert read <= 3, f"{name} reads {read} of {total} granules ({what}): a scan"
        if name in VIEWER_ONLY:  # no film to look up by the sorting key
            assert {what for what, _, _ in events} == {"by_user"}, (name, planning.plans)
