"""Publishing stamped events to Kafka: the only module that knows aiokafka.

`publish` returns only when the broker acknowledged every record (acks=all), or
raises `PublishUnavailable` within the configured bound, so the API never
answers 2xx for an event Kafka does not have.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import deque
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


class _Lane:
    """Record batches waiting for one partition, oldest first; the last one takes appends.

    Concurrent requests for a partition fill the same batch while the previous one
    is with the broker, so the cost per event stays that of a batch append.
    """

    __slots__ = ("flushing", "queue")

    def __init__(self) -> None:
        self.queue: deque[tuple[Any, asyncio.Future[None]]] = deque()
        self.flushing = False


class KafkaPublisher:
    def __init__(self, settings: Settings) -> None:
        assert settings.kafka_bootstrap, "the Kafka bootstrap address is resolved at start"
        self._topic = settings.kafka_topic
        self._timeout = settings.kafka_send_timeout_s
        self._partitioner = DefaultPartitioner()
        self._partitions: list[int] = []
        self._lanes: dict[int, _Lane] = {}
        self._flushers: set[asyncio.Task[None]] = set()
        timeout_ms = int(settings.kafka_send_timeout_s * 1000)
        compression = settings.kafka_compression
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            client_id=f"{settings.service_name}-events-api",
            acks="all",
            enable_idempotence=settings.kafka_idempotence,
            compression_type=None if compression == "none" else compression,
            linger_ms=settings.kafka_linger_ms,
            # A batch the broker has not taken by then fails instead of lingering
            # long past the moment the client was told 503.
            request_timeout_ms=max(timeout_ms, 1000),
            max_batch_size=1024 * 1024,
        )

    async def start(self) -> None:
        await self._producer.start()
        self._partitions = sorted(await self._producer.partitions_for(self._topic))

    async def stop(self) -> None:
        if self._flushers:
            await asyncio.wait(self._flushers, timeout=self._timeout)
        await self._producer.stop()

    async def publish(self, messages: Sequence[OutboundMessage]) -> None:
        # asyncio.wait, not gather: a batch's future is shared with other requests
        # and must not be cancelled when this one gives up.
        done, pending = await asyncio.wait(self._enqueue(messages), timeout=self._timeout)
        failure = next((f.exception() for f in done if f.exception() is not None), None)
        if pending or failure is not None:
            reason = repr(failure) if failure is not None else f"no ack within {self._timeout} s"
            log.warning("kafka did not acknowledge %d events: %s", len(messages), reason)
            raise PublishUnavailable(reason)

    def _enqueue(self, messages: Sequence[OutboundMessage]) -> set[asyncio.Future[None]]:
        """Append every message to its partition's open batch; the futures of those batches."""
        waits: set[asyncio.Future[None]] = set()
        for message in messages:
            partition = self._partitioner(message.key, self._partitions, self._partitions)
            lane = self._lanes.get(partition)
            if lane is None:
                lane = self._lanes[partition] = _Lane()
            waits.add(self._append(lane, message))
            if not lane.flushing:
                lane.flushing = True
                task = asyncio.create_task(self._flush(partition, lane))
                self._flushers.add(task)
                task.add_done_callback(self._flushers.discard)
        return waits

    def _append(self, lane: _Lane, message: OutboundMessage) -> asyncio.Future[None]:
        key, value, headers = message.key, message.value, list(message.headers)
        if lane.queue:
            builder, delivered = lane.queue[-1]
            if builder.append(key=key, value=value, timestamp=None, headers=headers):
                return delivered
        builder = self._producer.create_batch()
        delivered = asyncio.get_running_loop().create_future()
        delivered.add_done_callback(_consume_exception)
        builder.append(key=key, value=value, timestamp=None, headers=headers)
        lane.queue.append((builder, delivered))
        return delivered

    async def _flush(self, partition: int, lane: _Lane) -> None:
        """Hand the lane's batches to the producer one after another.

        `send_batch` waits while the partition's previous batch is still queued;
        meanwhile new events gather in the next batch.
        """
        try:
            while lane.queue:
                builder, delivered = lane.queue.popleft()
                builder.close()
                try:
                    sent = await self._producer.send_batch(
                        builder, self._topic, partition=partition
                    )
                except Exception as exc:  # noqa: BLE001 - every failure goes to the waiters
                    _settle(delivered, exc)
                    await self._refresh_partitions()
                    continue
                sent.add_done_callback(functools.partial(_settle_from, delivered))
        finally:
            lane.flushing = False

    async def _refresh_partitions(self) -> None:
        """After a failure: the topic may have been recreated with other partitions."""
        with contextlib.suppress(KafkaError, TimeoutError):
            partitions = await asyncio.wait_for(
                self._producer.partitions_for(self._topic), self._timeout
            )
            self._partitions = sorted(partitions)

    async def ready(self) -> bool:
        """Whether the broker answers a metadata request now."""
        try:
            await asyncio.wait_for(self._producer.client.fetch_all_metadata(), self._timeout)
        except (TimeoutError, KafkaError, OSError):
            return False
        return True


def _settle_from(delivered: asyncio.Future[None], sent: asyncio.Future[Any]) -> None:
    _settle(delivered, KafkaError("cancelled") if sent.cancelled() else sent.exception())


def _settle(delivered: asyncio.Future[None], error: BaseException | None) -> None:
    if delivered.done():
        return
    if error is None:
        delivered.set_result(None)
    else:
        delivered.set_exception(error)


def _consume_exception(future: asyncio.Future[None]) -> None:
    """Nobody may be waiting any more (the request timed out); keep asyncio quiet."""
    if not future.cancelled():
        future.exception()


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
