"""The analytics queries, one method each, as parameterised ClickHouse SQL.

Per-film reads use the events table's order (film_id, user_id, ...), per-user
reads its `by_user` projection, and film statistics the daily aggregates. Every
aggregate here is either indifferent to a not-yet-collapsed duplicate (max, min,
argMax, uniq) or reads with FINAL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import orjson

from ugc.analytics.models import (
    AveragePosition,
    DistinctViewers,
    FilmStats,
    FilmsWatched,
    MaxPosition,
    ResumePoint,
    TopFilm,
)
from ugc.errors import Unavailable
from ugc.warehouse.sink import READ_YOUR_WRITE, EventSink, WarehouseUnavailable
from ugc.warehouse.viewings import PLAYBACK

log = logging.getLogger(__name__)


class AnalyticsUnavailable(Unavailable):
    """ClickHouse did not answer an analytics query."""


@contextmanager
def _answerable(what: str) -> Iterator[None]:
    try:
        yield
    except WarehouseUnavailable as exc:
        log.warning("analytics %s failed, ClickHouse unavailable: %s", what, exc)
        raise AnalyticsUnavailable("Analytics are unavailable right now; retry shortly.") from exc


class AnalyticsQueries:
    def __init__(self, sink: EventSink, database: str) -> None:
        self._sink = sink
        self._db = database

    async def ping(self) -> None:
        await self.rows("SELECT 1 AS ok", None)

    async def rows(self, sql: str, params: dict[str, Any] | None) -> list[dict[str, Any]]:
        """The rows of a query; ClickHouse not answering is `AnalyticsUnavailable`,
        said in words a client can act on (the server's own text goes to the log)."""
        with _answerable("query"):
            return await self._sink.query(sql, params)

    async def write_row(self, table: str, row: dict[str, Any]) -> None:
        """One row into a table of the analytics' own (never the events'): durable
        when this returns, and read by the next query."""
        with _answerable("write"):
            await self._sink.insert_json_rows(
                f"{self._db}.{table}",
                list(row),
                orjson.dumps(row),
                dedup_token=str(uuid4()),
                settings=READ_YOUR_WRITE,
            )

    async def _one(self, sql: str, params: dict[str, Any]) -> dict[str, Any]:
        rows = await self.rows(sql, params)
        return rows[0] if rows else {}

    async def film_stats(self, film_id: UUID, since: date, until: date) -> FilmStats:
        row = await self._one(
            f"""
            SELECT uniqExact(user_id) AS viewers,
                   sum(greatest(furthest - earliest, 0)) AS watch_seconds,
                   avgIf(least(furthest / duration, 1), duration > 0) AS average_completion,
                   countIf(completed = 1) AS completions
            FROM (
                SELECT user_id, day,
                       maxMerge(furthest) AS furthest, minMerge(earliest) AS earliest,
                       maxMerge(duration) AS duration, maxMerge(completed) AS completed
                FROM {self._db}.film_daily
                WHERE film_id = {{film:UUID}} AND day BETWEEN {{since:Date}} AND {{until:Date}}
                GROUP BY user_id, day
            )
            """,  # noqa: S608 - the database name is a validated identifier
            {"film": str(film_id), "since": since.isoformat(), "until": until.isoformat()},
        )
        return FilmStats(film_id=film_id, since=since, until=until, **row)

    async def top_films(self, since: date, until: date, limit: int) -> list[TopFilm]:
        """Films by distinct viewers over the period, then watch time for those few."""
        # The viewer states are few rows but costly ones to read; ClickHouse reads in
        # parallel only past 160k rows or 24 MiB, so the settings let every core help.
        ranked = await self.rows(
            f"""
            SELECT film_id, uniqMerge(viewers) AS viewers
            FROM {self._db}.film_day_viewers
            WHERE day BETWEEN {{since:Date}} AND {{until:Date}}
            GROUP BY film_id
            ORDER BY viewers DESC, film_id
            LIMIT {{limit:UInt32}}
            SETTINGS merge_tree_min_rows_for_concurrent_read = 8192,
                     merge_tree_min_bytes_for_concurrent_read = 1048576
            """,  # noqa: S608
            {"since": since.isoformat(), "until": until.isoformat(), "limit": limit},
        )
        if not ranked:
            return []
        # Ids that went through UUID() are hex and dashes only: safe as literals.
        films = ",".join(f"'{UUID(str(r['film_id']))}'" for r in ranked)
        watched = await self.rows(
            f"""
            SELECT film_id, sum(greatest(furthest - earliest, 0)) AS watch_seconds
            FROM (
                SELECT film_id, user_id, day,
                       maxMerge(furthest) AS furthest, minMerge(earliest) AS earliest
                FROM {self._db}.film_daily
                WHERE film_id IN ({films})
                  AND day BETWEEN {{since:Date}} AND {{until:Date}}
                GROUP BY film_id, user_id, day
            )
            GROUP BY film_id
            """,  # noqa: S608
            {
                "films": [r["film_id"] for r in ranked],
                "since": since.isoformat(),
                "until": until.isoformat(),
            },
        )
        seconds = {r["film_id"]: r["watch_seconds"] for r in watched}
        return [TopFilm(**r, watch_seconds=seconds.get(r["film_id"], 0)) for r in ranked]

    async def resume_points(self, user_id: str, limit: int) -> list[ResumePoint]:
        """The last position in each film the user watched, most recent first."""
        rows = await self.rows(
            f"""
            SELECT film_id,
                   argMax(coalesce(position_sec, to_sec), (occurred_at, received_at, seq))
                       AS position_sec,
                   max(occurred_at) AS last_watched_at
            FROM {self._db}.events
            WHERE user_id = {{user:String}} AND type IN {PLAYBACK}
            GROUP BY film_id
            ORDER BY last_watched_at DESC
            LIMIT {{limit:UInt32}}
            """,  # noqa: S608
            {"user": user_id, "limit": limit},
        )
        return [ResumePoint(**row) for row in rows]

    async def average_position(self, film_id: UUID) -> AveragePosition:
        row = await self._one(
            f"""
            SELECT avg(position_sec) AS average_position_sec, count() AS events
            FROM {self._db}.events FINAL
            WHERE film_id = {{film:UUID}} AND position_sec IS NOT NULL
            """,  # noqa: S608
            {"film": str(film_id)},
        )
        return AveragePosition(film_id=film_id, **row)

    async def max_position(self, user_id: str, film_id: UUID) -> MaxPosition:
        row = await self._one(
            f"""
            SELECT max(coalesce(position_sec, to_sec)) AS max_position_sec
            FROM {self._db}.events
            WHERE film_id = {{film:UUID}} AND user_id = {{user:String}}
            """,  # noqa: S608
            {"film": str(film_id), "user": user_id},
        )
        return MaxPosition(user_id=user_id, film_id=film_id, **row)

    async def distinct_viewers(self, film_id: UUID) -> DistinctViewers:
        row = await self._one(
            f"""
            SELECT uniqExact(user_id) AS viewers
            FROM {self._db}.events
            WHERE film_id = {{film:UUID}}
            """,  # noqa: S608
            {"film": str(film_id)},
        )
        return DistinctViewers(film_id=film_id, **row)

    async def distinct_films(self, user_id: str) -> FilmsWatched:
        row = await self._one(
            f"""
            SELECT uniqExact(film_id) AS films
            FROM {self._db}.events
            WHERE user_id = {{user:String}}
              AND film_id != toUUID('00000000-0000-0000-0000-000000000000')
            """,  # noqa: S608
            {"user": user_id},
        )
        return FilmsWatched(user_id=user_id, **row)
