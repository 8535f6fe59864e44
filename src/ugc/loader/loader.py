"""The loader: Kafka events topic -> ClickHouse, effectively once.

- A record holds one or more events as JSON lines (the API packs the events of
  one request into one record, as Snowplow's collector does).
- Batches close at `max_rows` events, `max_bytes` or `max_wait_s` (`collect`).
- A batch is one insert of the message bytes as JSONEachRow, with a
  deduplication token naming its offset range in each partition, so an
  identical replay inserts nothing; the table also collapses on event_id.
- The next batch is read while the previous one is being inserted, and handed
  over before that insert ends (two at most in flight); offsets are committed
  only after ClickHouse confirmed a batch's insert, in batch order (`commits`).
- Rows ClickHouse refuses are isolated by halves down to the line and sent to the
  dead-letter topic; the rest lands (`isolate`, `dead_letters`).
- ClickHouse unavailable: the same slice is retried with capped exponential
  backoff, with nothing committed, until it lands or the loader is stopped
  (`insert`).
- Erased users' records are dropped, and their rows removed from the warehouse
  between inserts (`erasures`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

from ugc.events.contract import RECORD_FIELDS
from ugc.loader.batch import Batch, Partition, Record
from ugc.loader.collect import Collector
from ugc.loader.commits import OrderedCommits
from ugc.loader.dead_letter_writer import DeadLetters
from ugc.loader.erasures import Erasures
from ugc.loader.insert import RetryingInsert, Stopped
from ugc.loader.isolate import insert_isolating
from ugc.loader.ports import DeadLetterSink, EventSource
from ugc.loader.progress import LoaderStats
from ugc.observability.metrics import LOADER_OFFSET_RESETS
from ugc.settings import LoaderSettings
from ugc.warehouse.sink import EventSink

log = logging.getLogger(__name__)


class Loader:
    def __init__(
        self,
        source: EventSource,
        sink: EventSink,
        dead_letter_sink: DeadLetterSink,
        settings: LoaderSettings,
        *,
        database: str,
        erasures: Erasures | None = None,
    ) -> None:
        self._source = source
        self._erasures = erasures
        self._stopping = asyncio.Event()
        self.stats = LoaderStats()
        self._collector = Collector(source, settings, self._stopping)
        self._dead_letters = DeadLetters(
            dead_letter_sink,
            stopping=self._stopping,
            retry_cap_s=settings.retry_cap_s,
            on_sent=self._count_dead_letter,
        )
        self._insert = RetryingInsert(
            sink,
            f"{database}.events",
            RECORD_FIELDS,
            retry_cap_s=settings.retry_cap_s,
            stopping=self._stopping,
            on_failure=self._count_failure,
        )
        self._commits = OrderedCommits(source, self._committed)
        # Per partition, the offset after what the group committed: a record below
        # it means the log was reset under the loader (`_notice_resets`).
        self._floor: dict[Partition, int] = {}

    def stop(self) -> None:
        """Finish or abandon the batch in hand, commit what landed, and return from run()."""
        self._stopping.set()

    async def run(self) -> None:
        loading: list[asyncio.Task[None]] = []
        try:
            # The next batch is read from Kafka and joined while the previous one is
            # inserted, and handed over before that insert ends, so that ClickHouse
            # never waits for it; each is committed after its own insert, in order.
            while not self._stopping.is_set():
                parts, events = await self._collector.next_batch()
                await self._notice_resets(parts)
                erasures = self._erasures
                if parts:
                    before = loading[-1] if loading else None
                    batch = Batch.of(parts, events, erasures.filter() if erasures else None)
                    loading.append(asyncio.create_task(self._load(batch, before)))
                if len(loading) > 1 or (loading and not parts):
                    await loading.pop(0)
                if erasures is not None and erasures.has_work():
                    # Batches read before a suppression may hold the user's rows:
                    # they go in first, and the removal after them.
                    while loading:
                        await loading.pop(0)
                    await erasures.work()
            while loading:
                await loading.pop(0)
        except Stopped:
            log.info("loader stopped with a batch not in; it will be read again")
        finally:
            for task in loading:
                task.cancel()  # not committed: the next loader reads it again
            await asyncio.gather(*loading, return_exceptions=True)
            await self._commits.drain()  # what landed is committed before leaving
            log.info("loader stopped")

    async def _load(self, batch: Batch, before: asyncio.Task[None] | None) -> None:
        """Insert the batch, then queue its commit after the batch `before` it."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        # One insert for the whole batch: big blocks are what ClickHouse inserts fastest.
        if batch.records:  # none when every record was an erased user's
            await insert_isolating(
                self._insert, self._dead_letters, batch.records, batch.rows, batch.token
            )
        took = loop.time() - started
        if before is not None:
            await before  # so that commits are queued in batch order
        self._commits.queue(batch, took)

    def _committed(self, batch: Batch, took: float) -> None:
        self._floor.update(batch.next_offsets())
        self.stats.loaded(batch, took, self._source.highwater)

    async def _notice_resets(self, parts: Mapping[Partition, Sequence[Record]]) -> None:
        """Say so when a partition hands out offsets below what was committed: the
        topic was deleted and made again, or its broker forgot its log. Nothing is
        lost by it (each incarnation's batches have tokens of their own)."""
        for tp, records in parts.items():
            if not records:
                continue
            if tp not in self._floor:
                self._floor[tp] = await self._source.committed(tp) or 0
            if records[0].offset < self._floor[tp]:
                log.warning(
                    "offset reset on %s partition %d: read offset %d below the committed "
                    "%d; the topic was made again or its broker lost its log",
                    tp[0], tp[1], records[0].offset, self._floor[tp],
                )  # fmt: skip
                LOADER_OFFSET_RESETS.labels(str(tp[1])).inc()
                self.stats.offset_resets += 1
                self._floor[tp] = records[0].offset

    def _count_failure(self) -> None:
        self.stats.insert_failures += 1

    def _count_dead_letter(self) -> None:
        self.stats.dead_lettered += 1
