"""Embedded ClickHouse (chdb): the local platform's warehouse and the tests'."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson

from ugc.warehouse.sink import INSERT_SETTINGS, SinkError, bound


class ChdbSink:
    """Embedded ClickHouse. One process owns the directory; every call runs on one
    thread, so the event loop never waits on ClickHouse and calls never interleave.

    Rows are handed over as a file in memory (/dev/shm where there is one) read by
    `file()`: ClickHouse then parses them on every core, about twice as fast as
    rows inlined in the INSERT text.
    """

    def __init__(self, path: Path, *, backups: Path | None = None) -> None:
        """`backups`: where `BACKUP ... TO File(...)` may write and `RESTORE` read."""
        from chdb import session  # noqa: PLC0415 - only this sink needs chdb

        path.mkdir(parents=True, exist_ok=True)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chdb")
        where = str(path) if backups is None else f"{path}?backups.allowed_path={backups}"
        self._session = session.Session(where)  # type: ignore[no-untyped-call]

    async def _run(self, sql: str, fmt: str = "CSV", params: dict[str, Any] | None = None) -> Any:
        loop = asyncio.get_running_loop()
        try:
            query, values = bound(sql, params)
            return await loop.run_in_executor(
                self._thread,
                lambda: self._session.query(query, fmt, params=values),  # type: ignore[no-untyped-call]
            )
        except Exception as exc:
            raise SinkError.from_exception(exc) from exc

    async def insert_json_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: bytes,
        *,
        dedup_token: str,
        settings: Mapping[str, object] | None = None,
    ) -> None:
        settings = {
            **INSERT_SETTINGS,
            **(settings or {}),
            "insert_deduplication_token": dedup_token,
        }
        clause = ", ".join(f"{k} = {_literal(v)}" for k, v in settings.items())
        names = ", ".join(columns)
        with tempfile.NamedTemporaryFile(dir=_SPOOL, prefix="ugc-", suffix=".jsonl") as spool:
            spool.write(rows)
            spool.flush()
            await self._run(
                f"INSERT INTO {table} ({names}) SETTINGS {clause} "  # noqa: S608 - our names
                f"SELECT {names} FROM file({_literal(spool.name)}, 'JSONEachRow')"
            )

    async def query(
        self, sql: str, parameters: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        result = await self._run(sql, "JSONEachRow", parameters)
        text = result.bytes() if hasattr(result, "bytes") else bytes(result)
        return [orjson.loads(line) for line in text.splitlines() if line.strip()]

    async def execute(self, sql: str) -> None:
        await self._run(sql)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._session.close)
        self._thread.shutdown(wait=True)


_SPOOL = "/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()  # noqa: S108


def _literal(value: object) -> str:
    return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "\\'") + "'"
