"""The loader: Kafka events topic -> ClickHouse, effectively once.

- A record holds one or more events as JSON lines (the API packs the events of
  one request into one record, as Snowplow's collector does).
- Batches close at `loader_max_rows` events, `loader_max_bytes` or `loader_max_wait_s`.
- A batch is one insert of the message bytes as JSONEachRow, with a
  deduplication token naming its offset range in each partition, so an
  identical replay inserts nothing; the table also collapses on event_id.
- The next batch is read while the previous one is being inserted, and handed
  over before that insert ends (two at most in flight); offsets are committed
  only after ClickHouse confirmed a batch's insert, in batch order.
- Rows ClickHouse refuses are isolated by splitting the slice in halves, down to
  the line within a record, and sent to the dead-letter topic with the reason,
  source partition, offset and line; the rest lands.
- ClickHouse unavailable: the same slice is retried with capped exponential
  backoff, with nothing committed, until it lands or the loader is stopped.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from ugc.events.contract import RECORD_FIELDS
from ugc.events.sinks import EventSink, SinkError
from ugc.observability.metrics import (
    LOADER_BATCH_ROWS,
    LOADER_DEAD_LETTERED,
    LOADER_INSERT,
    LOADER_INSERT_FAILURES,
    LOADER_LAG,
    LOADER_ROWS,
)
from ugc.settings import Settings

log = logging.getLogger(__name__)

# aiokafka's ConsumerRecord; aiokafka ships no type information.
Record: TypeAlias = Any


class Stopped(Exception):
    """The loader was asked to stop while a batch was not in yet; nothing is committed."""


@dataclass
class LoaderStats:
    """What the loader has done, for logs and metrics."""

    batches: int = 0
    rows: int = 0
    dead_lettered: int = 0
    insert_failures: int = 0
    last_batch_rows: int = 0
    last_insert_s: float = 0.0
    lag: dict[int, int] = field(default_factory=dict)


class Loader:
    def __init__(self, settings: Settings, sink: EventSink) -> None:
        assert settings.kafka_bootstrap, "the Kafka bootstrap address is resolved at start"
        self._settings = settings
        self._sink = sink
        self._table = f"{settings.clickhouse_database}.events"
        self._stop = asyncio.Event()
        self._events_per_record: float | None = None
        self._committing: asyncio.Task[None] | None = None
        self.stats = LoaderStats()
        self._consumer = AIOKafkaConsumer(
            settings.kafka_topic,
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=settings.loader_group,
            client_id=f"{settings.service_name}-loader",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=settings.loader_max_rows,
            fetch_max_bytes=settings.loader_max_bytes,
            max_partition_fetch_bytes=max(1024 * 1024, settings.loader_max_bytes // 4),
            # A ClickHouse outage is waited out inside one batch; stay in the group.
            max_poll_interval_ms=3_600_000,
            session_timeout_ms=settings.loader_session_timeout_ms,
            heartbeat_interval_ms=max(300, settings.loader_session_timeout_ms // 4),
        )
        self._dead_letters = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            client_id=f"{settings.service_name}-loader-dlq",
            acks="all",
            enable_idempotence=settings.kafka_idempotence,
        )

    def stop(self) -> None:
        """Finish or abandon the batch in hand, commit what landed, and return from run()."""
        self._stop.set()

    async def run(self) -> None:
        await self._consumer.start()
        await self._dead_letters.start()
        log.info(
            "loader consuming %s as %s", self._settings.kafka_topic, self._settings.loader_group
        )
        loading: list[asyncio.Task[None]] = []
        try:
            # The next batch is read from Kafka and joined while the previous one is
            # inserted, and handed over before that insert ends, so that ClickHouse
            # never waits for it; each is committed after its own insert, in order.
            while not self._stop.is_set():
                batch, events = await self._collect()
                if batch:
                    before = loading[-1] if loading else None
                    prepared = _Batch.of(batch, events)
                    loading.append(asyncio.create_task(self._load(prepared, before)))
                if len(loading) > 1 or (loading and not batch):
                    await loading.pop(0)
            while loading:
                await loading.pop(0)
        except Stopped:
            log.info("loader stopped with a batch not in; it will be read again")
        finally:
            for task in loading:
                task.cancel()  # not committed: the next loader reads it again
            await asyncio.gather(*loading, return_exceptions=True)
            if self._committing is not None:
                await self._committing  # what landed is committed before leaving
            await self._consumer.stop()
            await self._dead_letters.stop()
            log.info("loader stopped")

    async def _collect(self) -> tuple[dict[TopicPartition, list[Record]], int]:
        """Records by partition, up to the batch limits, and how many events they hold."""
        settings = self._settings
        batch: dict[TopicPartition, list[Record]] = {}
        rows = size = records = 0
        deadline = time.monotonic() + settings.loader_max_wait_s
        while rows < settings.loader_max_rows and size < settings.loader_max_bytes:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._stop.is_set():
                break
            # Kafka counts records, a batch counts events: ask for as many records
            # as the events still wanted make, at the events a record has held lately
            # (one record first, when nothing has been read yet).
            per_record = rows / records if records else self._events_per_record
            wanted = (
                1 if per_record is None else int((settings.loader_max_rows - rows) / per_record)
            )
            wanted = max(1, wanted)
            fetched = await self._consumer.getmany(
                timeout_ms=int(remaining * 1000), max_records=wanted
            )
            for tp, part in fetched.items():
                batch.setdefault(tp, []).extend(part)
                values = [r.value or b"" for r in part]
                rows += sum(v.count(b"\n") for v in values) + len(values)
                size += sum(map(len, values))
                records += len(values)
        if records:
            self._events_per_record = rows / records
        return batch, rows

    async def _load(self, batch: _Batch, before: asyncio.Task[None] | None) -> None:
        """Insert the batch, then queue its commit after the batch `before` it."""
        started = time.monotonic()
        # One insert for the whole batch: big blocks are what ClickHouse inserts fastest.
        await self._insert_isolating(batch.records, batch.rows, batch.token)
        elapsed = time.monotonic() - started
        if before is not None:
            # A server may finish two inserts in either order; offsets are committed
            # in batch order all the same, or a crash could skip a batch not in yet.
            await before
        self._committing = asyncio.create_task(self._commit(self._committing, batch, elapsed))

    async def _commit(
        self, previous: asyncio.Task[None] | None, batch: _Batch, elapsed: float
    ) -> None:
        """Commit an inserted batch's offsets, after the batch before it."""
        if previous is not None:
            await previous
        offsets = {tp: OffsetAndMetadata(rs[-1].offset + 1, "") for tp, rs in batch.parts.items()}
        try:
            await self._consumer.commit(offsets)
        except KafkaError as exc:
            # Mostly a rebalance that took the partitions while the batch went in.
            # Whoever reads them next reads it again; the token and the table make
            # that harmless.
            log.warning("batch inserted but not committed: %r", exc)
        self._record(batch.parts, batch.events, elapsed)

    def _record(self, batch: dict[TopicPartition, list[Record]], rows: int, elapsed: float) -> None:
        stats = self.stats
        stats.batches += 1
        stats.rows += rows
        stats.last_batch_rows = rows
        stats.last_insert_s = elapsed
        for tp, records in batch.items():
            highwater = self._consumer.highwater(tp)
            if highwater is not None:
                stats.lag[tp.partition] = max(0, highwater - (records[-1].offset + 1))
                LOADER_LAG.labels(str(tp.partition)).set(stats.lag[tp.partition])
        LOADER_ROWS.inc(rows)
        LOADER_BATCH_ROWS.observe(rows)
        LOADER_INSERT.observe(elapsed)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("batch request ids: %s", " ".join(sorted(_request_ids(batch))))
        log.info(
            "loaded %d rows in %.0f ms; lag by partition %s",
            rows, elapsed * 1000, dict(sorted(stats.lag.items())),
        )  # fmt: skip

    async def _insert_isolating(self, records: Sequence[Record], rows: bytes, token: str) -> None:
        try:
            await self._insert(rows, token)
        except SinkError as error:
            if len(records) == 1:
                await self._isolate_lines(records[0], rows.split(b"\n"), 0, str(error))
                return
            for half in (records[: len(records) // 2], records[len(records) // 2 :]):
                values = b"\n".join([r.value or b"" for r in half])
                await self._insert_isolating(half, values, _slice_token(half))

    async def _isolate_lines(
        self, record: Record, lines: list[bytes], first: int, reason: str
    ) -> None:
        """The bad lines of one record, found by halves; `first` is lines[0]'s index."""
        if len(lines) == 1:
            await self._dead_letter(record, first, lines[0], reason)
            return
        middle = len(lines) // 2
        for start, part in ((first, lines[:middle]), (first + middle, lines[middle:])):
            token = f"{_slice_token([record])}#{start}-{start + len(part) - 1}"
            try:
                await self._insert(b"\n".join(part), token)
            except SinkError as error:
                await self._isolate_lines(record, part, start, str(error))

    async def _insert(self, rows: bytes, token: str) -> None:
        """Insert, retrying while ClickHouse is unavailable; SinkError only for bad rows."""
        attempt = 0
        while True:
            try:
                await self._sink.insert_json_rows(
                    self._table, RECORD_FIELDS, rows, dedup_token=token
                )
            except SinkError as error:
                if error.bad_data:
                    raise
                self.stats.insert_failures += 1
                LOADER_INSERT_FAILURES.inc()
                attempt += 1
                pause = min(self._settings.loader_retry_cap_s, 0.2 * 2**attempt)
                pause *= random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not secrets
                log.warning(
                    "ClickHouse insert of %s failed (attempt %d), retrying in %.1f s: %s",
                    token, attempt, pause, error,
                )  # fmt: skip
                await self._pause(pause)
            else:
                return

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except TimeoutError:
            return
        raise Stopped

    async def _dead_letter(self, record: Record, line: int, value: bytes, reason: str) -> None:
        headers = [
            ("ugc-dead-letter-reason", reason.encode()[:4000]),
            ("ugc-source-topic", record.topic.encode()),
            ("ugc-source-partition", str(record.partition).encode()),
            ("ugc-source-offset", str(record.offset).encode()),
            ("ugc-source-line", str(line).encode()),
        ]
        headers += [(k, v) for k, v in record.headers if k == "x-request-id"]
        await self._dead_letters.send_and_wait(
            self._settings.dead_letter_topic, value, key=record.key, headers=headers
        )
        self.stats.dead_lettered += 1
        LOADER_DEAD_LETTERED.inc()
        request_id = next((v.decode() for k, v in record.headers if k == "x-request-id"), None)
        log.warning(
            "dead-lettered %s:%d@%d line %d (request %s): %s",
            record.topic, record.partition, record.offset, line, request_id, reason,
            extra={"http.request.id": request_id} if request_id else None,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Batch:
    """A batch ready to insert: its records by partition, in order, and their rows."""

    parts: dict[TopicPartition, list[Record]]
    events: int
    records: list[Record]
    rows: bytes
    token: str

    @classmethod
    def of(cls, parts: dict[TopicPartition, list[Record]], events: int) -> _Batch:
        records = [r for tp in sorted(parts) for r in parts[tp]]
        rows = b"\n".join([r.value or b"" for r in records])
        return cls(parts, events, records, rows, _batch_token(parts))


def _batch_token(batch: dict[TopicPartition, list[Record]]) -> str:
    """The topic and, per partition, the offset range: `topic:p0=10-99,p1=5-60`.

    A partition's records come in offset order, so its first and last name the range.
    """
    topic = next(iter(batch)).topic
    parts = ",".join(
        f"p{tp.partition}={records[0].offset}-{records[-1].offset}"
        for tp, records in sorted(batch.items())
        if records
    )
    return f"{topic}:{parts}"


def _slice_token(records: Sequence[Record]) -> str:
    """The token of a part of a batch (records grouped by partition, in offset order)."""
    by_partition: dict[TopicPartition, list[Record]] = {}
    for record in records:
        by_partition.setdefault(TopicPartition(record.topic, record.partition), []).append(record)
    return _batch_token(by_partition)


def _request_ids(batch: dict[TopicPartition, list[Record]]) -> set[str]:
    return {
        value.decode(errors="replace")
        for records in batch.values()
        for record in records
        for key, value in record.headers
        if key == "x-request-id"
    }
