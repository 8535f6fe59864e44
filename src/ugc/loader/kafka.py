"""The loader's Kafka clients (aiokafka): the events consumer and the dead-letter
producer, opened and closed by `kafka_clients`; and reading and replaying dead
letters for `ugc dead-letters`. The only loader module that knows aiokafka.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from ugc.loader.batch import Partition, Record
from ugc.loader.dead_letter_reader import Letter
from ugc.loader.ports import CommitFailed, DeadLetterUnavailable
from ugc.settings import KafkaSettings, LoaderSettings


class KafkaEventSource:
    """The events topic, read as the loader's consumer group, committed by hand."""

    def __init__(self, consumer: Any) -> None:
        self._consumer = consumer

    async def getmany(
        self, *, timeout_ms: int, max_records: int
    ) -> Mapping[Partition, Sequence[Record]]:
        found: Mapping[Partition, Sequence[Record]] = await self._consumer.getmany(
            timeout_ms=timeout_ms, max_records=max_records
        )
        return found

    async def commit(self, offsets: Mapping[Partition, int]) -> None:
        try:
            await self._consumer.commit(
                {tp: OffsetAndMetadata(offset, "") for tp, offset in offsets.items()}
            )
        except KafkaError as exc:
            raise CommitFailed(repr(exc)) from exc

    def highwater(self, partition: Partition) -> int | None:
        end: int | None = self._consumer.highwater(partition)
        return end

    async def committed(self, partition: Partition) -> int | None:
        offset: int | None = await self._consumer.committed(partition)
        return offset


class KafkaDeadLetterSink:
    def __init__(self, producer: Any, topic: str, *, timeout_s: float) -> None:
        self._producer = producer
        self._topic = topic
        self._timeout_s = timeout_s

    async def send(
        self, value: bytes, *, key: bytes | None, headers: Sequence[tuple[str, bytes]]
    ) -> None:
        try:
            await asyncio.wait_for(
                self._producer.send_and_wait(self._topic, value, key=key, headers=list(headers)),
                self._timeout_s,
            )
        except (KafkaError, TimeoutError) as exc:
            raise DeadLetterUnavailable(repr(exc)) from exc


@asynccontextmanager
async def kafka_clients(
    kafka: KafkaSettings, loader: LoaderSettings, *, client_id: str
) -> AsyncIterator[tuple[KafkaEventSource, KafkaDeadLetterSink]]:
    """The consumer and the dead-letter producer, started; stopped on exit."""
    consumer = AIOKafkaConsumer(
        kafka.topic,
        bootstrap_servers=kafka.bootstrap,
        group_id=loader.group,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=loader.max_rows,
        fetch_max_bytes=loader.max_bytes,
        max_partition_fetch_bytes=max(1024 * 1024, loader.max_bytes // 4),
        # A ClickHouse outage is waited out inside one batch; stay in the group.
        max_poll_interval_ms=3_600_000,
        session_timeout_ms=loader.session_timeout_ms,
        heartbeat_interval_ms=max(300, loader.session_timeout_ms // 4),
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap,
        client_id=f"{client_id}-dlq",
        acks="all",
        enable_idempotence=kafka.idempotence,
    )
    await consumer.start()
    try:
        await producer.start()
        try:
            yield (
                KafkaEventSource(consumer),
                KafkaDeadLetterSink(
                    producer, loader.dead_letter_topic, timeout_s=max(kafka.send_timeout_s, 5.0)
                ),
            )
        finally:
            await producer.stop()
    finally:
        await consumer.stop()


async def read_dead_letters(kafka: KafkaSettings, topic: str) -> list[Letter]:
    """Every letter of the dead-letter topic, up to its end now (no consumer group:
    reading them changes nothing)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap, enable_auto_commit=False, client_id="ugc-dead-letters"
    )
    try:
        await consumer.start()
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer.topics()  # the metadata, when it was not fetched yet
            partitions = consumer.partitions_for_topic(topic) or set()
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not assigned:
            return []
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        letters: list[Letter] = []
        while await _behind(consumer, ends):
            for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                letters += [
                    Letter.of(
                        partition=tp.partition, offset=r.offset, timestamp_ms=r.timestamp,
                        key=r.key, value=r.value or b"", headers=r.headers,
                    )
                    for r in records
                    if r.offset < ends[tp]
                ]  # fmt: skip
        return sorted(letters, key=lambda letter: (letter.written_at, letter.partition))
    finally:
        await consumer.stop()


async def replay(kafka: KafkaSettings, letters: Sequence[Letter]) -> int:
    """Send the letters' rows back to the events topic, acknowledged by all replicas."""
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap,
        client_id="ugc-dead-letters",
        acks="all",
        enable_idempotence=kafka.idempotence,
    )
    await producer.start()
    try:
        sent = [
            await producer.send(
                kafka.topic, letter.value, key=letter.key, headers=letter.replay_headers()
            )
            for letter in letters
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return len(sent)


async def _behind(consumer: Any, ends: Mapping[Any, int]) -> bool:
    """Whether any partition has records before its end offset still to read."""
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return True
    return False
