"""KafkaPublisher's batching over a fake producer: lingering, full batches, the bound."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from ugc.events.publisher import KafkaPublisher, PublishUnavailable
from ugc.settings import KafkaSettings

pytestmark = pytest.mark.unit

HEADERS = [("ugc-schema", b"1")]


@dataclass
class FakeBatch:
    capacity: int
    records: list[bytes] = field(default_factory=list)
    closed: bool = False

    def append(self, *, key: bytes, value: bytes, timestamp: None, headers: Any) -> object | None:
        assert not self.closed
        if len(self.records) >= self.capacity:
            return None
        self.records.append(value)
        return object()

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeProducer:
    """Acknowledges every batch at once, unless `silent`; remembers what was sent."""

    capacity: int = 1000
    silent: bool = False
    sent: list[tuple[int, list[bytes]]] = field(default_factory=list)

    def create_batch(self) -> FakeBatch:
        return FakeBatch(self.capacity)

    async def send_batch(self, batch: FakeBatch, topic: str, *, partition: int) -> Any:
        assert batch.closed
        self.sent.append((partition, batch.records))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not self.silent:
            future.set_result(None)
        return future

    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1, 2}


async def nothing() -> None:
    return None


async def publisher(producer: FakeProducer, **kafka: Any) -> KafkaPublisher:
    made = KafkaPublisher(producer, KafkaSettings(**kafka), ping=nothing)
    await made.start()
    return made


async def test_requests_within_the_linger_share_one_batch() -> None:
    producer = FakeProducer()
    made = await publisher(producer, linger_ms=200)
    requests = [
        asyncio.create_task(made.publish(b"user-1", [b"e%d" % n], HEADERS)) for n in range(5)
    ]

    await asyncio.gather(*requests)

    ((_, records),) = producer.sent
    assert records == [b"e0", b"e1", b"e2", b"e3", b"e4"]


async def test_without_linger_requests_one_after_another_go_in_batches_of_their_own() -> None:
    producer = FakeProducer()
    made = await publisher(producer, linger_ms=0)

    for n in range(3):
        await made.publish(b"user-1", [b"e%d" % n], HEADERS)

    assert [records for _, records in producer.sent] == [[b"e0"], [b"e1"], [b"e2"]]


async def test_a_request_filling_a_batch_goes_on_in_the_next_and_waits_for_both() -> None:
    producer = FakeProducer(capacity=2)
    made = await publisher(producer, linger_ms=0)

    await made.publish(b"user-1", [b"a", b"b", b"c"], HEADERS)

    assert [records for _, records in producer.sent] == [[b"a", b"b"], [b"c"]]
    assert len({partition for partition, _ in producer.sent}) == 1  # one user, one partition


async def test_no_acknowledgement_within_the_bound_is_publish_unavailable() -> None:
    made = await publisher(FakeProducer(silent=True), linger_ms=0, send_timeout_s=0.05)

    with pytest.raises(PublishUnavailable):
        await made.publish(b"user-1", [b"lost?"], HEADERS)


async def test_one_user_always_lands_in_the_same_partition() -> None:
    producer = FakeProducer()
    made = await publisher(producer, linger_ms=0)

    for _ in range(3):
        await made.publish(b"user-7", [b"x"], HEADERS)
        await made.publish(b"user-8", [b"y"], HEADERS)

    by_user: dict[bytes, set[int]] = {}
    for partition, records in producer.sent:
        by_user.setdefault(records[0], set()).add(partition)
    assert all(len(partitions) == 1 for partitions in by_user.values())
