"""DuckDB in the study: embedded, one events table in a database file, no
secondary indexes (DuckDB prunes by the min/max it keeps per row group, in the
order rows arrived, which is what an analytics user of it relies on). A bulk
load goes in as Arrow tables. Every call runs on the store's own thread: a
DuckDB connection is not for several threads at once (`cursor()` gives another)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from ugc.research.events import sql
from ugc.research.events.data import COLUMNS, Rows
from ugc.research.events.store import Params

T = TypeVar("T")
DAY = "CAST(occurred_at AS DATE)"  # in the session's time zone, UTC
SETTINGS = ("threads", "memory_limit", "TimeZone", "preserve_insertion_order")
_ARROW_TYPES = {
    "schema_version": pa.int16(),
    "occurred_at": pa.timestamp("us", tz="UTC"),
    "received_at": pa.timestamp("us", tz="UTC"),
    "position_sec": pa.float64(),
    "duration_sec": pa.float64(),
    "seq": pa.int32(),
}


def _q(text: str) -> str:
    return sql.in_dialect(text, day=DAY, placeholder="?")


def arrow(rows: Rows) -> pa.Table:
    columns = list(zip(*rows.tuples(), strict=True))
    arrays = {}
    for name, values in zip(COLUMNS, columns, strict=True):
        if name in {"event_id", "film_id"}:
            arrays[name] = pa.array([str(v) for v in values], pa.string())
        else:
            arrays[name] = pa.array(values, _ARROW_TYPES.get(name, pa.string()))
    return pa.table(arrays)


class DuckDbStore:
    name = "DuckDB"
    design = (
        "one table, no secondary indexes (zone maps over insertion order); "
        "the bulk load from Arrow tables; CHECKPOINT after it"
    )

    def __init__(self, connection: duckdb.DuckDBPyConnection, where: str) -> None:
        self._db = connection
        self._where = where
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="duckdb")
        self._db.execute("SET TimeZone = 'UTC'")

    async def another(self) -> DuckDbStore:
        """A store on another connection to the same database, for another thread."""
        return DuckDbStore(self._db.cursor(), self._where)

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, work)

    async def prepare(self, *, bulk: bool = False) -> None:
        def work() -> None:
            self._db.execute("DROP TABLE IF EXISTS events")
            self._db.execute(sql.TABLE.format(primary="", timestamp="timestamptz"))

        await self._run(work)

    async def insert(self, rows: Rows) -> None:
        values = ", ".join(["(" + ", ".join(["?"] * len(COLUMNS)) + ")"] * len(rows))
        flat = [value for row in rows.tuples() for value in row]
        statement = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES {values}"
        await self._run(lambda: self._db.execute(statement, flat))

    async def load(self, rows: Rows) -> None:
        block = arrow(rows)

        def work() -> None:
            self._db.register("block", block)
            try:
                self._db.execute(
                    f"INSERT INTO events ({', '.join(COLUMNS)}) "
                    "SELECT event_id::UUID, type, user_id, film_id::UUID, schema_version, "
                    "occurred_at, received_at, position_sec, duration_sec, seq FROM block"
                )
            finally:
                self._db.unregister("block")

        await self._run(work)

    async def loaded(self) -> None:
        await self._run(lambda: self._db.execute("CHECKPOINT"))

    async def ask(self, query: str, params: Params) -> Any:
        return await sql.answer(query, params, self._all)

    async def _all(self, text: str, *params: object) -> list[tuple[Any, ...]]:
        statement = _q(text)
        return await self._run(lambda: self._db.execute(statement, list(params)).fetchall())

    async def describe(self) -> dict[str, Any]:
        def work() -> dict[str, Any]:
            settings = {
                name: self._db.execute(f"SELECT current_setting('{name}')").fetchone()[0]  # type: ignore[index]
                for name in SETTINGS
            }
            return {"version": duckdb.__version__, "where": self._where, "settings": settings}

        return await self._run(work)

    async def close(self) -> None:
        await self._run(self._db.close)
        self._thread.shutdown(wait=True)
