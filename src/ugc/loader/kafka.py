"""The loader's Kafka clients (aiokafka): the events consumer and the dead-letter producer.

The only loader module that knows aiokafka; opened and closed by `kafka_clients`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from ugc.loader.batch import Partition, Record
from ugc.loader.ports import CommitFailed
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


class KafkaDeadLetterSink:
    def __init__(self, producer: Any, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def send(
        self, value: bytes, *, key: bytes | None, headers: Sequence[tuple[str, bytes]]
    ) -> None:
        await self._producer.send_and_wait(self._topic, value, key=key, headers=list(headers))


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
                KafkaDeadLetterSink(producer, loader.dead_letter_topic),
            )
        finally:
            await producer.stop()
    finally:
        await consumer.stop()
