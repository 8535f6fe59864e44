"""ClickHouse in the study is the project's warehouse itself: its migrations make
the tables (events, and the per-film aggregates the materialized views keep),
rows go in as the loader sends them, and the queries are ugc.analytics'."""

from __future__ import annotations

import itertools
from typing import Any

from ugc.analytics.queries import AnalyticsQueries
from ugc.research.answers import plain
from ugc.research.events.data import COLUMNS, Rows
from ugc.research.events.store import RESUME, TOP, Params, ranked
from ugc.settings import ClickHouseSettings
from ugc.warehouse.migrations import migrate
from ugc.warehouse.sink import EventSink

DATABASE = "ugc_research"
SETTINGS = ("max_threads", "max_memory_usage", "min_insert_block_size_rows")


class ClickHouseStore:
    name = "ClickHouse"
    design = (
        "the project's schema: ReplacingMergeTree ordered by (film_id, user_id, event_id), "
        "a projection by user, materialized per film/day/viewer aggregates; merged "
        "(OPTIMIZE FINAL) after the bulk load"
    )

    def __init__(self, sink: EventSink, where: str) -> None:
        self._sink = sink
        self._where = where
        self._settings = ClickHouseSettings(database=DATABASE)
        self._queries = AnalyticsQueries(sink, DATABASE)
        self._tokens = itertools.count()

    async def prepare(self, *, bulk: bool = False) -> None:
        await self._sink.execute(f"DROP DATABASE IF EXISTS {DATABASE} SYNC")
        await migrate(self._sink, self._settings)

    async def insert(self, rows: Rows) -> None:
        await self._put(rows)

    async def load(self, rows: Rows) -> None:
        await self._put(rows)

    async def _put(self, rows: Rows) -> None:
        await self._sink.insert_json_rows(
            f"{DATABASE}.events", COLUMNS, rows.json_lines(), dedup_token=f"r{next(self._tokens)}"
        )

    async def loaded(self) -> None:
        for table in ("events", "film_daily", "film_day_viewers"):
            await self._sink.execute(f"OPTIMIZE TABLE {DATABASE}.{table} FINAL")

    async def ask(self, query: str, params: Params) -> Any:  # noqa: PLR0911 - one per query
        q, user, film = self._queries, params.user, params.film
        if query == "point select by user":
            rows = await self._sink.query(
                f"SELECT * FROM {DATABASE}.events WHERE user_id = {{user:String}}",
                {"user": user},
            )
            return {
                "rows": len(rows),
                "positions": plain(float(sum(r["position_sec"] for r in rows))),
            }
        if query == "average position per film":
            found = await q.average_position(film)
            return plain({"average": found.average_position_sec, "events": found.events})
        if query == "max position, user and film":
            return plain((await q.max_position(user, film)).max_position_sec)
        if query == "distinct viewers per film":
            return (await q.distinct_viewers(film)).viewers
        if query == "distinct films per user":
            return (await q.distinct_films(user)).films
        if query == "film stats (30 days)":
            stats = await q.film_stats(film, params.since, params.until)
            return plain(stats.model_dump(exclude={"film_id", "since", "until"}))
        if query == "top films (30 days)":
            top = await q.top_films(params.since, params.until, TOP)
            return ranked([t.model_dump() for t in top])
        if query == "resume points of a user":
            points = await q.resume_points(user, RESUME)
            return plain([p.model_dump() for p in points])
        raise ValueError(f"no such query: {query}")

    async def describe(self) -> dict[str, Any]:
        (version,) = await self._sink.query("SELECT version() AS v")
        names = ", ".join(f"'{n}'" for n in SETTINGS)
        found = await self._sink.query(
            f"SELECT name, value FROM system.settings WHERE name IN ({names})"
        )
        return {
            "version": version["v"],
            "where": self._where,
            "settings": {r["name"]: r["value"] for r in found},
        }

    async def another(self) -> ClickHouseStore:
        return self  # one sink: embedded chdb runs one statement at a time anyway

    async def close(self) -> None:
        await self._sink.execute(f"DROP DATABASE IF EXISTS {DATABASE} SYNC")
