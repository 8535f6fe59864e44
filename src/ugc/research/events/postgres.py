"""PostgreSQL in the study: one events table with the indexes its queries need
(the event id as primary key, by viewer and film, by film and time). A bulk load
goes in by COPY into the bare table, the indexes built after it, then ANALYZE —
as a PostgreSQL user would load 10 million rows."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from ugc.research.events import sql
from ugc.research.events.data import COLUMNS, Rows
from ugc.research.events.store import Params

DAY = "(occurred_at AT TIME ZONE 'UTC')::date"
INDEXES = (
    "ALTER TABLE events ADD PRIMARY KEY (event_id)",
    "CREATE INDEX events_by_user ON events (user_id, film_id, occurred_at)",
    "CREATE INDEX events_by_film ON events (film_id, occurred_at)",
)
SETTINGS = (
    "shared_buffers", "work_mem", "maintenance_work_mem", "effective_cache_size",
    "max_parallel_workers_per_gather", "synchronous_commit", "fsync", "jit",
)  # fmt: skip


def _q(text: str) -> str:
    return sql.in_dialect(text, day=DAY, placeholder="%s")


class PostgresStore:
    name = "PostgreSQL"
    design = (
        "one table; primary key on event_id, indexes (user_id, film_id, occurred_at) and "
        "(film_id, occurred_at); the bulk load by COPY before the indexes, then ANALYZE"
    )

    def __init__(self, connection: AsyncConnection[Any], url: str, where: str) -> None:
        self._db = connection
        self._url = url
        self._where = where
        self._bulk = False

    @classmethod
    async def connect(cls, url: str, where: str) -> PostgresStore:
        return cls(await AsyncConnection.connect(url, autocommit=True), url, where)

    async def another(self) -> PostgresStore:
        return await self.connect(self._url, self._where)

    async def prepare(self, *, bulk: bool = False) -> None:
        """The table; with its indexes unless a bulk load comes first."""
        self._bulk = bulk
        await self._db.execute("DROP TABLE IF EXISTS events")
        await self._db.execute(sql.TABLE.format(primary="", timestamp="timestamptz"))
        if not bulk:
            for statement in INDEXES:
                await self._db.execute(statement)

    async def insert(self, rows: Rows) -> None:
        values = ", ".join(["(" + ", ".join(["%s"] * len(COLUMNS)) + ")"] * len(rows))
        flat = [value for row in rows.tuples() for value in row]
        await self._db.execute(
            f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES {values}",
            flat,
        )

    async def load(self, rows: Rows) -> None:
        async with self._db.cursor() as cursor:
            names = ", ".join(COLUMNS)
            async with cursor.copy(f"COPY events ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(
                    ["uuid", "varchar", "varchar", "uuid", "int2", "timestamptz",
                     "timestamptz", "float8", "float8", "int4"]
                )  # fmt: skip
                for row in rows.tuples():
                    await copy.write_row(row)

    async def loaded(self) -> None:
        if self._bulk:
            for statement in INDEXES:
                await self._db.execute(statement)
        await self._db.execute("ANALYZE events")

    async def ask(self, query: str, params: Params) -> Any:
        return await sql.answer(query, params, self._all)

    async def _all(self, text: str, *params: object) -> list[tuple[Any, ...]]:
        cursor = await self._db.execute(_q(text), params)
        return await cursor.fetchall()

    async def describe(self) -> dict[str, Any]:
        version = (await (await self._db.execute("SHOW server_version")).fetchone() or [""])[0]
        settings = {}
        for name in SETTINGS:
            row = await (await self._db.execute(f"SHOW {name}")).fetchone()
            settings[name] = row[0] if row else None
        return {"version": version, "where": self._where, "settings": settings}

    async def close(self) -> None:
        await self._db.close()
