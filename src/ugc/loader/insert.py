"""Inserting rows, waiting out ClickHouse being unavailable."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence

from ugc.observability.metrics import LOADER_INSERT_FAILURES
from ugc.warehouse.sink import EventSink, WarehouseUnavailable

log = logging.getLogger(__name__)


class Stopped(Exception):
    """The loader was asked to stop while a batch was not in yet; nothing is committed."""


class RetryingInsert:
    """One insert of JSON rows; while ClickHouse is unavailable it is retried with
    capped exponential backoff and jitter, until it lands or the loader stops.
    Only rows ClickHouse refuses (`RowsRefused`) come back as an error."""

    def __init__(
        self,
        sink: EventSink,
        table: str,
        columns: Sequence[str],
        *,
        retry_cap_s: float,
        stopping: asyncio.Event,
        on_failure: Callable[[], None] = lambda: None,
    ) -> None:
        self._sink = sink
        self._table = table
        self._columns = columns
        self._cap = retry_cap_s
        self._stopping = stopping
        self._on_failure = on_failure

    async def __call__(self, rows: bytes, token: str) -> None:
        attempt = 0
        while True:
            try:
                await self._sink.insert_json_rows(
                    self._table, self._columns, rows, dedup_token=token
                )
            except WarehouseUnavailable as error:
                self._on_failure()
                LOADER_INSERT_FAILURES.inc()
                attempt += 1
                pause = backoff(attempt, self._cap)
                log.warning(
                    "ClickHouse insert of %s failed (attempt %d), retrying in %.1f s: %s",
                    token, attempt, pause, error,
                )  # fmt: skip
                await pause_unless_stopped(self._stopping, pause)
            else:
                return


def backoff(attempt: int, cap_s: float) -> float:
    """0.4 s, 0.8 s, 1.6 s, ... up to the cap, each within 20% either way."""
    jitter = random.uniform(0.8, 1.2)  # noqa: S311 - not a secret
    return float(min(cap_s, 0.2 * 2**attempt) * jitter)


async def pause_unless_stopped(stopping: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`; raise Stopped at once if the loader is asked to stop meanwhile."""
    try:
        await asyncio.wait_for(stopping.wait(), seconds)
    except TimeoutError:
        return
    raise Stopped
