"""Where the loader writes and the analytics read: ClickHouse, embedded or a server.

Both sinks run the same SQL. Rows arrive as the Kafka message bytes, one JSON
object a line, and ClickHouse parses them itself (FORMAT JSONEachRow).
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import orjson

# ClickHouse error codes that mean "these rows are bad", as opposed to "the
# server is not able right now": the loader isolates the former and retries the latter.
BAD_DATA_CODES = frozenset(
    {6, 25, 26, 27, 32, 38, 41, 53, 69, 70, 72, 117, 130, 131, 173, 190, 252, 376, 441, 457, 1001}
)
_CODE = re.compile(r"Code: (\d+)")

INSERT_SETTINGS = {
    "deduplicate_blocks_in_dependent_materialized_views": 1,
    # Collapsing duplicate event_ids is left to merges and FINAL reads, where it
    # happens anyway; doing it in every insert block cost a fifth of the insert.
    "optimize_on_insert": 0,
    # A batch (tens of MB) is parsed on every core in 1 MiB pieces; the default
    # 10 MiB pieces left a 50,000-row batch to one or two threads.
    "min_chunk_bytes_for_parallel_parsing": 1024 * 1024,
    "date_time_input_format": "best_effort",
    "input_format_skip_unknown_fields": 1,
    "input_format_null_as_default": 1,
    "input_format_allow_errors_num": 0,
}


class SinkError(Exception):
    """An insert or query failed; `bad_data` when retrying the same rows cannot help."""

    def __init__(self, message: str, *, bad_data: bool) -> None:
        super().__init__(message)
        self.bad_data = bad_data

    @classmethod
    def from_exception(cls, exc: BaseException) -> SinkError:
        text = str(exc)
        found = _CODE.search(text)
        code = int(found.group(1)) if found else None
        return cls(_first_line(text), bad_data=code in BAD_DATA_CODES)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return line[:1000]


class EventSink(Protocol):
    async def insert_json_rows(
        self, table: str, columns: Sequence[str], rows: bytes, *, dedup_token: str
    ) -> None:
        """Rows as JSON lines; keys outside `columns` are ignored, missing ones default."""

    async def query(
        self, sql: str, parameters: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]: ...

    async def execute(self, sql: str) -> None: ...

    async def close(self) -> None: ...


class ChdbSink:
    """Embedded ClickHouse. One process owns the directory; every call runs on one
    thread, so the event loop never waits on ClickHouse and calls never interleave.

    Rows are handed over as a file in memory (/dev/shm where there is one) read by
    `file()`: ClickHouse then parses them on every core, about twice as fast as
    rows inlined in the INSERT text.
    """

    def __init__(self, path: Path) -> None:
        from chdb import session  # noqa: PLC0415 - only this sink needs chdb

        path.mkdir(parents=True, exist_ok=True)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chdb")
        self._session = session.Session(str(path))  # type: ignore[no-untyped-call]

    async def _run(self, sql: str, fmt: str = "CSV", params: dict[str, Any] | None = None) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._thread,
                lambda: self._session.query(sql, fmt, params=params or {}),  # type: ignore[no-untyped-call]
            )
        except Exception as exc:
            raise SinkError.from_exception(exc) from exc

    async def insert_json_rows(
        self, table: str, columns: Sequence[str], rows: bytes, *, dedup_token: str
    ) -> None:
        settings = {**INSERT_SETTINGS, "insert_deduplication_token": dedup_token}
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


class ClickHouseHttpSink:
    """A ClickHouse server or cluster over HTTP (production)."""

    def __init__(self, url: str) -> None:
        import clickhouse_connect  # noqa: PLC0415 - only this sink needs it

        self._url = url
        self._connect = clickhouse_connect.get_async_client
        self._client: Any = None

    async def _client_ready(self) -> Any:
        if self._client is None:
            self._client = await self._connect(dsn=self._url, compress="lz4")
        return self._client

    async def insert_json_rows(
        self, table: str, columns: Sequence[str], rows: bytes, *, dedup_token: str
    ) -> None:
        client = await self._client_ready()
        settings = {**INSERT_SETTINGS, "insert_deduplication_token": dedup_token}
        try:
            await client.raw_insert(
                table, column_names=list(columns), insert_block=rows, settings=settings,
                fmt="JSONEachRow",
            )  # fmt: skip
        except Exception as exc:
            raise SinkError.from_exception(exc) from exc

    async def query(
        self, sql: str, parameters: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        client = await self._client_ready()
        try:
            result = await client.query(sql, parameters=parameters)
        except Exception as exc:
            raise SinkError.from_exception(exc) from exc
        return list(result.named_results())

    async def execute(self, sql: str) -> None:
        client = await self._client_ready()
        try:
            await client.command(sql)
        except Exception as exc:
            raise SinkError.from_exception(exc) from exc

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


_SPOOL = "/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()  # noqa: S108


def _literal(value: object) -> str:
    return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "\\'") + "'"
