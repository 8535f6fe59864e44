"""Removing one viewer from the warehouse: their events, and every aggregate that
counts or lists them.

- `film_day_viewers` holds a distinct-viewer state per film and day, which cannot
  forget one viewer: the keys the viewer touched are deleted and rebuilt from the
  other viewers' events once the delete is done.
- `film_daily`, `film_viewer_hours` and `continue_watching_hidden` keep a row per
  viewer, and `events` the viewer's own rows. Each removal is a lightweight
  DELETE: gone from every read once done, rewritten out of the files by
  `make_physical` (the loader runs it within UGC_ERASURE_PHYSICAL_S). On one
  server they are queued together and waited for together.
- The receipt (rows per table) and the keys to rebuild are counted and recorded
  in `erased_viewers` before anything is removed, so a run that dies halfway and
  is run again removes the rest, rebuilds the same keys and reports what there
  was.

Only the loader runs this, between its own inserts (`loader.erasures`), so no
insert of its own lands in between.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import orjson

from ugc.warehouse.sink import EventSink, WarehouseUnavailable
from ugc.warehouse.viewings import PLAYBACK

ERASED = "erased_viewers"
# Tables with a row per viewer, in the order they are removed from; events last.
PER_VIEWER = ("film_daily", "film_viewer_hours", "continue_watching_hidden", "events")
# Every table an erasure masks rows of, to be rewritten without them.
MASKED = ("film_day_viewers", *PER_VIEWER)
_SYNC = "SETTINGS lightweight_deletes_sync = 2, mutations_sync = 2"


class WarehouseErasure:
    """Erasure statements for one database, on one server or a cluster (where
    mutations go to every node's local tables)."""

    def __init__(self, sink: EventSink, database: str, cluster: str | None = None) -> None:
        self._sink = sink
        self._db = database
        self._cluster = cluster

    def _mutable(self, table: str) -> str:
        if self._cluster:
            return f"{self._db}.{table}_local ON CLUSTER {self._cluster}"
        return f"{self._db}.{table}"

    async def erased(self) -> dict[str, dict[str, Any]]:
        """Every recorded erasure by user: its receipt and steps."""
        rows = await self._sink.query(
            f"SELECT user_id, erasure_id, receipt, touched, masked_at, physical_at "  # noqa: S608
            f"FROM {self._db}.{ERASED} FINAL"
        )
        return {row["user_id"]: row for row in rows}

    async def receipt_of(self, user_id: str) -> dict[str, Any] | None:
        """The user's recorded erasure, or None."""
        rows = await self._sink.query(
            f"SELECT user_id, erasure_id, receipt, masked_at, physical_at "  # noqa: S608
            f"FROM {self._db}.{ERASED} FINAL WHERE user_id = {{user:String}}",
            {"user": user_id},
        )
        return rows[0] if rows else None

    async def erase(self, user_id: str, erasure_id: str) -> dict[str, int]:
        """Remove the viewer's rows; the receipt (rows per table as there were before
        this erasure began, however many runs it took)."""
        db, params = self._db, {"user": user_id}
        before = await self._sink.query(
            f"SELECT receipt, touched FROM {db}.{ERASED} FINAL "  # noqa: S608
            "WHERE user_id = {user:String}",
            params,
        )
        if before:
            receipt: dict[str, int] = orjson.loads(before[0]["receipt"])
            touched: list[list[str]] = orjson.loads(before[0]["touched"] or "[]")
        else:
            receipt = await self._count(user_id)
            found = await self._sink.query(
                f"SELECT DISTINCT film_id, toDate(occurred_at) AS day FROM {db}.events "  # noqa: S608
                f"WHERE user_id = {{user:String}} AND type IN {PLAYBACK}",
                params,
            )
            touched = [[row["film_id"], row["day"]] for row in found]
            await self._record(
                user_id, erasure_id, receipt, touched, masked_at=None, physical_at=None
            )
        keys = ", ".join(
            f"(toUUID('{UUID(film)}'), toDate('{date.fromisoformat(day)}'))"
            for film, day in touched
        )
        deletes = [(table, "user_id = {user:String}", params) for table in PER_VIEWER]
        if keys:
            deletes.insert(0, ("film_day_viewers", f"(film_id, day) IN ({keys})", {}))
        # One server: every DELETE is queued at once and waited for together, so the
        # background pool works on all the tables' parts instead of one table at a
        # time. A cluster: each waited for on every replica in turn.
        wait = _SYNC if self._cluster else "SETTINGS lightweight_deletes_sync = 0"
        for table, where, bound in deletes:
            await self._sink.query(
                f"DELETE FROM {self._mutable(table)} WHERE {where} {wait}",  # noqa: S608
                bound,
            )
        if not self._cluster:
            await self._mutations_done([table for table, _, _ in deletes])
        if keys:  # after the delete is done: the rebuilt states are newer than it
            await self._sink.query(
                f"INSERT INTO {db}.film_day_viewers (day, film_id, viewers) "  # noqa: S608
                f"SELECT toDate(occurred_at) AS day, film_id, uniqState(user_id) FROM {db}.events "
                f"WHERE (film_id, toDate(occurred_at)) IN ({keys}) AND user_id != {{user:String}} "
                f"AND type IN {PLAYBACK} GROUP BY day, film_id",
                params,
            )
        await self._record(
            user_id, erasure_id, receipt, touched, masked_at=datetime.now(UTC), physical_at=None
        )
        return receipt

    async def _mutations_done(self, tables: list[str], timeout_s: float = 3600) -> None:
        """Wait until no mutation of these tables is left to run."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = await self._sink.query(
                "SELECT count() AS n FROM system.mutations WHERE database = {db:String} "
                "AND table IN {tables:Array(String)} AND NOT is_done",
                {"db": self._db, "tables": tables},
            )
            if int(left[0]["n"]) == 0:
                return
            if time.monotonic() > deadline:
                raise WarehouseUnavailable(f"mutations of {tables} still running")
            await asyncio.sleep(0.05)

    async def make_physical(self, erased: dict[str, dict[str, Any]]) -> int:
        """Rewrite the masked rows out of every table's parts; mark the erasures done
        so (their user ids). The number marked."""
        due = [row for row in erased.values() if row["masked_at"] and not row["physical_at"]]
        if not due:
            return 0
        for table in MASKED:
            await self._sink.execute(
                f"ALTER TABLE {self._mutable(table)} APPLY DELETED MASK SETTINGS mutations_sync = 2"
            )
        now = datetime.now(UTC)
        for row in due:
            masked_at = datetime.fromisoformat(row["masked_at"]).replace(tzinfo=UTC)
            receipt, touched = orjson.loads(row["receipt"]), orjson.loads(row["touched"] or "[]")
            await self._record(
                row["user_id"], row["erasure_id"], receipt, touched,
                masked_at=masked_at, physical_at=now,
            )  # fmt: skip
        return len(due)

    async def _count(self, user_id: str) -> dict[str, int]:
        db, params = self._db, {"user": user_id}
        rows = await self._sink.query(
            f"SELECT "  # noqa: S608
            f"(SELECT uniqExact(event_id) FROM {db}.events WHERE user_id = {{user:String}}) "
            f"AS events, "
            f"(SELECT count() FROM {db}.film_daily WHERE user_id = {{user:String}}) AS film_daily, "
            f"(SELECT count() FROM {db}.film_viewer_hours WHERE user_id = {{user:String}}) "
            f"AS film_viewer_hours, "
            f"(SELECT count() FROM {db}.continue_watching_hidden FINAL "
            f"WHERE user_id = {{user:String}}) AS continue_watching_hidden",
            params,
        )
        return {name: int(value) for name, value in rows[0].items()}

    async def _record(
        self,
        user_id: str,
        erasure_id: str,
        receipt: dict[str, int],
        touched: list[list[str]],
        *,
        masked_at: datetime | None,
        physical_at: datetime | None,
    ) -> None:
        await self._sink.query(
            f"INSERT INTO {self._db}.{ERASED} "
            "(user_id, erasure_id, receipt, touched, masked_at, physical_at, version) "
            "SETTINGS insert_quorum = 'auto' "
            "SELECT {user:String}, {erasure:String}, {receipt:String}, {touched:String}, "
            "{masked:Nullable(DateTime64(6, 'UTC'))}, {physical:Nullable(DateTime64(6, 'UTC'))}, "
            "{version:UInt64}",
            {
                "user": user_id,
                "erasure": erasure_id,
                "receipt": orjson.dumps(receipt).decode(),
                "touched": orjson.dumps(touched).decode(),
                "masked": masked_at,
                "physical": physical_at,
                "version": time.time_ns(),
            },
        )
