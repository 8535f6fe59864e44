"""Committing offsets only after ClickHouse confirmed a batch, in batch order.

Two batches may be in flight, and a server may finish their inserts in either
order; committing the later one first would let a crash skip the earlier one.
Each commit therefore waits for the one queued before it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from ugc.loader.batch import Batch
from ugc.loader.ports import CommitFailed, EventSource

log = logging.getLogger(__name__)


class OrderedCommits:
    def __init__(self, source: EventSource, on_committed: Callable[[Batch, float], None]) -> None:
        self._source = source
        self._on_committed = on_committed
        self._last: asyncio.Task[None] | None = None

    def queue(self, batch: Batch, insert_s: float) -> None:
        """Commit `batch` (inserted in `insert_s`) once every batch queued before is."""
        self._last = asyncio.create_task(self._commit(self._last, batch, insert_s))

    async def drain(self) -> None:
        """Wait until everything queued is committed (or failed to be)."""
        if self._last is not None:
            await self._last

    async def _commit(self, previous: asyncio.Task[None] | None, batch: Batch, took: float) -> None:
        if previous is not None:
            await previous
        try:
            await self._source.commit(batch.next_offsets())
        except CommitFailed as exc:
            # Whoever reads the partitions next reads the batch again; its token and
            # the table's collapsing on event_id make that harmless.
            log.warning("batch inserted but not committed: %s", exc)
        self._on_committed(batch, took)
