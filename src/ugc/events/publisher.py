"""Publishing stamped events to Kafka: with `topics`, the only modules that know aiokafka.

`publish` returns only when the broker acknowledged every record (acks=all), or
raises `PublishUnavailable` within the configured bound, so the API never
answers 2xx for an event Kafka does not have.

`KafkaPublisher` batches records itself (per partition, lingering as Kafka's
`linger.ms`) and hands whole batches to a producer; `open_publisher` opens
aiokafka's for it, and unit tests give it a fake with the same methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner

from ugc.events.errors import PublishUnavailable
from ugc.observability.metrics import PUBLISH_FAILURES, PUBLISH_LATENCY
from ugc.settings import KafkaSettings

log = logging.getLogger(__name__)

Headers = Sequence[tuple[str, bytes]]
_PARTITION_CACHE_SIZE = 100_000


class EventPublisher(Protocol):
    async def publish(self, key: bytes, values: Sequence[bytes], headers: Headers) -> None:
        """Records sharing a key (one user) and headers (one request): acked, or raise."""

    async def ready(self) -> bool: ...


class BatchProducer(Protocol):
    """What KafkaPublisher needs of aiokafka's producer."""

    def create_batch(self) -> Any:
        """A batch builder: `append(key=, value=, timestamp=, headers=)` (None when
        full) and `close()`."""

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> asyncio.Future[Any]:
        """Queue a closed batch; the future settles with the broker's answer."""

    async def partitions_for(self, topic: str) -> set[int]: ...


class _Batch:
    """One record batch for a partition, and the requests waiting for it.

    Each request waits on a future of its own, so a request that gives up
    (cancelled) never cancels the batch for the others.
    """

    __slots__ = ("builder", "deadline", "loop", "opened", "settled", "waiters")

    def __init__(self, builder: Any, loop: asyncio.AbstractEventLoop, timeout_s: float) -> None:
        self.builder = builder
        self.loop = loop
        self.waiters: list[asyncio.Future[None]] = []
        self.opened = time.perf_counter()
        self.settled = False
        # Every batch fails by itself at its deadline: no timer per request.
        self.deadline = loop.call_later(timeout_s, self.expire, timeout_s)

    def waiter(self) -> asyncio.Future[None]:
        future: asyncio.Future[None] = self.loop.create_future()
        self.waiters.append(future)
        return future

    def expire(self, seconds: float) -> None:
        """The waiters give up; a late acknowledgement changes nothing for them."""
        self.settle(TimeoutError(f"no acknowledgement from Kafka within {seconds} s"))

    def settle_from(self, sent: asyncio.Future[Any]) -> None:
        self.settle(KafkaError("cancelled") if sent.cancelled() else sent.exception())

    def settle(self, error: BaseException | None) -> None:
        if self.settled:
            return
        self.settled = True
        self.deadline.cancel()
        if error is None:
            PUBLISH_LATENCY.observe(time.perf_counter() - self.opened)
        for waiter in self.waiters:
            if waiter.done():  # its request was cancelled
                continue
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)
        self.waiters.clear()


class _Lane:
    """Record batches waiting for one partition, oldest first; the last one takes appends.

    Concurrent requests for a partition fill the same batch while the previous one
    is with the broker, so the cost per event stays that of a batch append.
    """

    __slots__ = ("flushing", "queue")

    def __init__(self) -> None:
        self.queue: deque[_Batch] = deque()
        self.flushing = False


class KafkaPublisher:
    def __init__(
        self,
        producer: BatchProducer,
        settings: KafkaSettings,
        *,
        ping: Callable[[], Awaitable[object]],
    ) -> None:
        self._producer = producer
        self._ping = ping
        self._topic = settings.topic
        self._timeout = settings.send_timeout_s
        self._linger = settings.linger_ms / 1000
        self._partitioner = DefaultPartitioner()
        self._partitions: list[int] = []
        self._partition_cache: dict[bytes, int] = {}
        self._lanes: dict[int, _Lane] = {}
        self._flushers: set[asyncio.Task[None]] = set()
        # Set by `start`. The loop is kept rather than asked for: on Python 3.11
        # asking makes a getpid() system call, which once a request was 3.5% of
        # the events API's time under load.
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._partitions = sorted(await self._producer.partitions_for(self._topic))

    async def drain(self) -> None:
        """Wait (within the send bound) for the batches handed over to be sent."""
        if self._flushers:
            await asyncio.wait(self._flushers, timeout=self._timeout)

    async def publish(self, key: bytes, values: Sequence[bytes], headers: Headers) -> None:
        waiters = self._enqueue(key, values, list(headers))
        try:
            if len(waiters) == 1:
                await waiters[0]
            else:  # the records filled a batch and went on in the next
                for outcome in await asyncio.gather(*waiters, return_exceptions=True):
                    if isinstance(outcome, BaseException):
                        raise outcome
        except (KafkaError, TimeoutError) as failure:
            PUBLISH_FAILURES.inc()
            log.warning("kafka did not acknowledge %d events: %r", len(values), failure)
            raise PublishUnavailable(repr(failure)) from failure

    def _enqueue(
        self, key: bytes, values: Sequence[bytes], headers: list[tuple[str, bytes]]
    ) -> list[asyncio.Future[None]]:
        """Append the records to their partition's open batch; a waiter on each batch used."""
        partition = self._partition_of(key)
        lane = self._lanes.get(partition)
        if lane is None:
            lane = self._lanes[partition] = _Lane()
        batch = lane.queue[-1] if lane.queue else self._new_batch(lane)
        waiters = [batch.waiter()]
        for value in values:
            if batch.builder.append(key=key, value=value, timestamp=None, headers=headers) is None:
                batch = self._new_batch(lane)
                waiters.append(batch.waiter())
                batch.builder.append(key=key, value=value, timestamp=None, headers=headers)
        if not lane.flushing:
            lane.flushing = True
            task = self._running_loop().create_task(self._flush(partition, lane))
            self._flushers.add(task)
            task.add_done_callback(self._flushers.discard)
        return waiters

    def _new_batch(self, lane: _Lane) -> _Batch:
        batch = _Batch(self._producer.create_batch(), self._running_loop(), self._timeout)
        lane.queue.append(batch)
        return batch

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("KafkaPublisher.start() was not awaited")
        return self._loop

    def _partition_of(self, key: bytes) -> int:
        """The default (murmur2) partitioner, remembered per key: it is pure Python."""
        partition = self._partition_cache.get(key)
        if partition is None:
            if len(self._partition_cache) >= _PARTITION_CACHE_SIZE:
                self._partition_cache.clear()
            partition = self._partitioner(key, self._partitions, self._partitions)
            self._partition_cache[key] = partition
        return partition

    async def _flush(self, partition: int, lane: _Lane) -> None:
        """Hand the lane's batches to the producer one after another.

        The open batch (the last) is held until it is `linger` old, as Kafka's
        `linger.ms`: the events of that time share one batch, whose cost is far
        above an append's. `send_batch` waits while the partition's previous batch
        is still queued; meanwhile new events gather in the next batch.
        """
        try:
            while lane.queue:
                if len(lane.queue) == 1:
                    left = self._linger - (time.perf_counter() - lane.queue[0].opened)
                    if left > 0:
                        # Once: uvloop's timers count whole milliseconds, so a
                        # remainder below one fires at once, and checking again
                        # would spin until the millisecond is over.
                        await asyncio.sleep(left)
                batch = lane.queue.popleft()
                batch.builder.close()
                try:
                    sent = await self._producer.send_batch(
                        batch.builder, self._topic, partition=partition
                    )
                except Exception as exc:  # noqa: BLE001 - every failure goes to the waiters
                    # e.g. AssertionError("Unrecognized partition") from aiokafka when
                    # the topic came back with other partitions: for the waiters it
                    # is the broker being unavailable, a 503, never a 500.
                    batch.settle(exc if isinstance(exc, KafkaError) else KafkaError(repr(exc)))
                    await self._refresh_partitions()
                    continue
                sent.add_done_callback(batch.settle_from)
        finally:
            lane.flushing = False

    async def _refresh_partitions(self) -> None:
        """After a failure: the topic may have been recreated with other partitions."""
        with contextlib.suppress(KafkaError, TimeoutError):
            partitions = await asyncio.wait_for(
                self._producer.partitions_for(self._topic), self._timeout
            )
            self._partitions = sorted(partitions)
            self._partition_cache.clear()

    async def ready(self) -> bool:
        """Whether the broker answers a metadata request now."""
        try:
            await asyncio.wait_for(self._ping(), self._timeout)
        except (TimeoutError, KafkaError, OSError):
            return False
        return True


@asynccontextmanager
async def open_publisher(
    settings: KafkaSettings, *, client_id: str
) -> AsyncIterator[KafkaPublisher]:
    """A publisher on a started aiokafka producer; what it holds is sent before it stops."""
    timeout_ms = int(settings.send_timeout_s * 1000)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.idempotence,
        compression_type=None if settings.compression == "none" else settings.compression,
        # A batch the broker has not taken by then fails instead of lingering
        # long past the moment the client was told 503.
        request_timeout_ms=max(timeout_ms, 1000),
        max_batch_size=1024 * 1024,
    )
    await producer.start()
    try:
        publisher = KafkaPublisher(producer, settings, ping=producer.client.fetch_all_metadata)
        await publisher.start()
        try:
            yield publisher
        finally:
            await publisher.drain()
    finally:
        await producer.stop()
