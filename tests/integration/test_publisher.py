"""The Kafka publisher over the real local broker: how requests share batches."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from tests.integration.conftest import read_topic
from ugc.events.publisher import open_publisher
from ugc.events.topics import ensure_topic
from ugc.settings import Settings

pytestmark = pytest.mark.integration

HEADERS = [("ugc-schema", b"1")]


def batches_sent() -> float:
    return REGISTRY.get_sample_value("ugc_kafka_publish_seconds_count") or 0.0


async def test_requests_within_the_linger_share_one_batch(kafka_settings: Settings) -> None:
    settings = kafka_settings.replace(kafka_linger_ms=1000.0)
    await ensure_topic(settings.kafka)
    before = batches_sent()
    requests = []
    async with open_publisher(settings.kafka, client_id="test") as publisher:
        for n in range(5):  # one after another, well within the linger
            requests.append(
                asyncio.create_task(publisher.publish(b"user-1", [b"e%d" % n], HEADERS))
            )
            await asyncio.sleep(0.02)
        await asyncio.gather(*requests)

    assert batches_sent() - before == 1
    records = await read_topic(settings.kafka.bootstrap or "", settings.kafka.topic, 5)
    assert [r.value for r in records] == [b"e0", b"e1", b"e2", b"e3", b"e4"]


async def test_without_linger_a_lone_request_goes_in_its_own_batch(
    kafka_settings: Settings,
) -> None:
    settings = kafka_settings.replace(kafka_linger_ms=0.0)
    await ensure_topic(settings.kafka)
    before = batches_sent()
    async with open_publisher(settings.kafka, client_id="test") as publisher:
        for n in range(3):
            await publisher.publish(b"user-1", [b"event %d" % n], HEADERS)

    assert batches_sent() - before == 3
    records = await read_topic(settings.kafka.bootstrap or "", settings.kafka.topic, 3)
    assert [r.value for r in records] == [b"event 0", b"event 1", b"event 2"]
