"""Publishing stamped events to Kafka: the only module that knows aiokafka.

`publish` returns only when the broker acknowledged every record (acks=all), or
raises `PublishUnavailable` within the configured bound, so the API never
answers 2xx for an event Kafka does not have.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.partitioner import DefaultPartitioner

from ugc.settings import Settings

log = logging.getLogger(__name__)


class PublishUnavailable(Exception):
    """The broker did not acknowledge in time; nothing may be reported as accepted."""


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


class EventPublisher(Protocol):
    async def publish(self, messages: Sequence[OutboundMessage]) -> None: ...

    async def ready(self) -> bool: ...


class KafkaPublisher:
    def __init__(self, settings: Settings) -> None:
        assert settings.kafka_bootstrap, "the Kafka bootstrap address is resolved at start"
        self._bootstrap = settings.kafka_bootstrap
        self._topic = settings.kafka_topic
        self._timeout = settings.kafka_send_timeout_s
        self._partitioner = DefaultPartitioner()
        timeout_ms = int(settings.kafka_send_timeout_s * 1000)
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            client_id=f"{settings.service_name}-events-api",
            acks="all",
            enable_idempotence=settings.kafka_idempotence,
            compression_type=None
            if settings.kafka_compression == "none"
            else settings.kafka_compression,
            linger_ms=settings.kafka_linger_ms,
            # A batch the broker has not taken by then fails instead of lingering
            # past the moment the client was told 503.
            request_timeout_ms=max(timeout_ms, 1000),
            max_batch_size=1024 * 1024,
            metadata_max_age_ms=30_000,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, messages: Sequence[OutboundMessage]) -> None:
        try:
            await asyncio.wait_for(self._send_all(messages), self._timeout)
        except (TimeoutError, KafkaError) as exc:
            log.warning("kafka did not acknowledge %d events: %r", len(messages), exc)
            raise PublishUnavailable(str(exc) or type(exc).__name__) from exc

    async def _send_all(self, messages: Sequence[OutboundMessage]) -> None:
        if len(messages) == 1:
            (only,) = messages
            sent = await self._producer.send(
                self._topic, only.value, key=only.key, headers=list(only.headers)
            )
            await sent
            return
        # Several events: group them by partition into record batches, which
        # costs far less per event than one `send` each.
        partitions = sorted(await self._producer.partitions_for(self._topic))
        by_partition: dict[int, list[OutboundMessage]] = {}
        for message in messages:
            partition = self._partitioner(message.key, partitions, partitions)
            by_partition.setdefault(partition, []).append(message)
        pending: list[asyncio.Future[Any]] = []
        for partition, group in by_partition.items():
            pending.extend(await self._send_batches(partition, group))
        await asyncio.gather(*pending)

    async def _send_batches(
        self, partition: int, group: list[OutboundMessage]
    ) -> list[asyncio.Future[Any]]:
        futures = []
        batch = self._producer.create_batch()
        for message in group:
            headers = list(message.headers)
            if (
                batch.append(key=message.key, value=message.value, timestamp=None, headers=headers)
                is None
            ):
                batch.close()
                futures.append(
                    await self._producer.send_batch(batch, self._topic, partition=partition)
                )
                batch = self._producer.create_batch()
                batch.append(key=message.key, value=message.value, timestamp=None, headers=headers)
        batch.close()
        futures.append(await self._producer.send_batch(batch, self._topic, partition=partition))
        return futures

    async def ready(self) -> bool:
        """Whether the broker answers a metadata request now."""
        try:
            await asyncio.wait_for(self._producer.client.fetch_all_metadata(), self._timeout)
        except (TimeoutError, KafkaError, OSError):
            return False
        return True


async def ensure_topic(settings: Settings) -> None:
    """Create the events topic with the configured partitions if it is missing."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, client_id=f"{settings.service_name}-admin"
    )
    await admin.start()
    try:
        if settings.kafka_topic in await admin.list_topics():
            return
        topic = NewTopic(
            settings.kafka_topic,
            num_partitions=settings.kafka_partitions,
            replication_factor=settings.kafka_replication,
        )
        try:
            await admin.create_topics([topic])
            log.info(
                "created topic %s with %d partitions",
                settings.kafka_topic,
                settings.kafka_partitions,
            )
        except TopicAlreadyExistsError:
            pass
    finally:
        await admin.close()
