"""Collecting the next batch from Kafka, up to the batch limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from ugc.loader.batch import Partition, Record
from ugc.loader.ports import EventSource
from ugc.settings import LoaderSettings


class Collector:
    """Reads records until the batch holds `max_rows` events or `max_bytes`, or
    `max_wait_s` passed, or the loader is stopping.

    Kafka counts records while a batch counts events (a record holds a request's
    events), so each read asks for as many records as the events still wanted
    make at the events a record has held lately: one record first, when nothing
    has been read yet.
    """

    def __init__(
        self, source: EventSource, settings: LoaderSettings, stopping: asyncio.Event
    ) -> None:
        self._source = source
        self._settings = settings
        self._stopping = stopping
        self._events_per_record: float | None = None

    async def next_batch(self) -> tuple[dict[Partition, list[Record]], int]:
        """Records by partition, and how many events they hold."""
        settings = self._settings
        batch: dict[Partition, list[Record]] = {}
        rows = size = records = 0
        deadline = time.monotonic() + settings.max_wait_s
        while rows < settings.max_rows and size < settings.max_bytes:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._stopping.is_set():
                break
            per_record = rows / records if records else self._events_per_record
            wanted = 1 if per_record is None else int((settings.max_rows - rows) / per_record)
            fetched = await self._source.getmany(
                timeout_ms=int(remaining * 1000), max_records=max(1, wanted)
            )
            for tp, part in fetched.items():
                batch.setdefault(tp, []).extend(part)
                values = _values(part)
                rows += sum(v.count(b"\n") for v in values) + len(values)
                size += sum(map(len, values))
                records += len(values)
        if records:
            self._events_per_record = rows / records
        return batch, rows


def _values(records: Sequence[Record]) -> list[bytes]:
    return [r.value or b"" for r in records]
