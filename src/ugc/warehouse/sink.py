"""The port to ClickHouse: what the loader writes through and the analytics read.

Two adapters implement it with the same SQL: embedded chdb (`embedded`) and a
server over HTTP (`remote`). Rows arrive as the Kafka message bytes, one JSON
object a line, and ClickHouse parses them itself (FORMAT JSONEachRow).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any, Protocol

from clickhouse_connect.driver.binding import bind_query

from ugc.errors import Unavailable

# ClickHouse error codes that mean "these rows are bad", as opposed to "the
# server is not able right now": the loader isolates the former into dead letters
# and retries the latter. Every code not listed is retried, so a server under
# pressure never turns good rows into dead letters: out of memory (173, 241),
# too many parts (252), an exception from the C++ library (1001), timeouts,
# Keeper, a read-only replica. The listed ones are about the text of a row:
# 6, 25, 26, 27, 32, 38, 41, 72, 130, 376, 441: it cannot be parsed;
# 53, 70, 190: a type or size that does not fit; 69, 457: a value out of range;
# 117: incorrect data; 131: a string too long; 469: a CHECK constraint refused it.
BAD_DATA_CODES = frozenset(
    {6, 25, 26, 27, 32, 38, 41, 53, 69, 70, 72, 117, 130, 131, 190, 376, 441, 457, 469}
)
_CODE = re.compile(r"Code: (\d+)")

INSERT_SETTINGS = {
    "deduplicate_blocks_in_dependent_materialized_views": 1,
    # On a cluster, an insert into a Distributed table returns once every shard
    # has its rows, not when they are queued on the receiving node's disk, so an
    # offset is committed only for rows the shards hold. Plain tables ignore it.
    "distributed_foreground_insert": 1,
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


# An insert a reader must see at once, on any replica: on every replica of a
# two-replica shard (a majority) before it returns. Plain tables ignore it.
READ_YOUR_WRITE = {"insert_quorum": "auto"}


class SinkError(Exception):
    """An insert or query failed: `WarehouseUnavailable` (retrying may help) or
    `RowsRefused` (retrying the same rows or query cannot)."""

    @staticmethod
    def from_exception(exc: BaseException) -> SinkError:
        text = str(exc)
        found = _CODE.search(text)
        code = int(found.group(1)) if found else None
        kind = RowsRefused if code in BAD_DATA_CODES else WarehouseUnavailable
        return kind(_first_line(text))


class WarehouseUnavailable(SinkError, Unavailable):
    """ClickHouse did not answer, or not now: the same call may succeed later."""


class RowsRefused(SinkError):
    """ClickHouse refused these rows (or this query) as they are."""


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return line[:1000]


class EventSink(Protocol):
    async def insert_json_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: bytes,
        *,
        dedup_token: str,
        settings: Mapping[str, object] | None = None,
    ) -> None:
        """Rows as JSON lines; keys outside `columns` are ignored, missing ones default.
        `settings` are added to `INSERT_SETTINGS` for this insert."""

    async def query(
        self, sql: str, parameters: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]: ...

    async def execute(self, sql: str) -> None: ...

    async def close(self) -> None: ...


def bound(sql: str, parameters: Mapping[str, Any] | None) -> tuple[str, dict[str, str]]:
    """The query and its `{name:Type}` parameters as ClickHouse reads them: each
    value in its escaped text form, by clickhouse-connect's own binding, the one the
    server sink sends. ClickHouse unescapes parameter values, so a value handed over
    raw (`victim\\x41abc`) could be read as another (`victimAabc`)."""
    if not parameters:
        return sql, {}
    query, params = bind_query(sql, dict(parameters), UTC)
    return str(query), {name.removeprefix("param_"): value for name, value in params.items()}
