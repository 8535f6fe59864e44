"""Events from the API through Kafka and the loader into ClickHouse, and back out
of the analytics API; bad rows to the dead-letter topic; ClickHouse failures waited out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tests.conftest import user_id
from tests.integration.conftest import http_client, read_topic, wait_for_rows
from ugc.analytics.app import open_analytics_service
from ugc.events.app import open_events_service
from ugc.events.contract import EVENT_ADAPTER
from ugc.events.records import Arrival
from ugc.events.topics import ensure_topic
from ugc.loader.loader import Loader
from ugc.loader.process import loader_running
from ugc.settings import Settings
from ugc.warehouse.embedded import ChdbSink
from ugc.warehouse.sink import WarehouseUnavailable

pytestmark = pytest.mark.integration

POISON = b'{"event_id": "not-a-uuid", "type": 1}'
FILM = str(uuid.uuid4())
OTHER_FILM = str(uuid.uuid4())


@dataclass
class Pipeline:
    events: httpx.AsyncClient
    analytics: httpx.AsyncClient
    loader: Loader


async def running(settings: Settings, sink: Any) -> AsyncIterator[Pipeline]:
    """The events API, the analytics API and the loader beside it, as `ugc dev` runs them."""
    async for events in http_client(open_events_service(settings)):
        async for analytics in http_client(open_analytics_service(settings, sink=sink)):
            async with loader_running(settings, sink) as loader:
                yield Pipeline(events, analytics, loader)


async def eventually_top(
    client: httpx.AsyncClient, headers: dict[str, str], films: list[str]
) -> httpx.Response:
    """The default top films once they are `films` (polled, no fixed sleep)."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        response = await client.get("/api/v1/analytics/films/top", headers=headers)
        if [t["film_id"] for t in response.json()] == films:
            return response
        assert asyncio.get_running_loop().time() < deadline, response.json()
        await asyncio.sleep(0.05)


def playback(kind: str, position: float, film: str = FILM, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "film_id": film, "position_sec": position, "duration_sec": 100, **extra}


async def test_posted_events_reach_clickhouse_and_the_analytics(
    pipeline_settings: Settings, warehouse: ChdbSink, token_for: Callable[..., str]
) -> None:
    alice, bob = (
        {"Authorization": f"Bearer {token_for('alice')}"},
        {"Authorization": f"Bearer {token_for('bob')}"},
    )
    analyst = {"Authorization": f"Bearer {token_for('carol', roles=['analyst'])}"}
    retried = str(uuid.uuid4())
    async for app in running(pipeline_settings, warehouse):
        # Within one request events are ordered by their client timestamps.
        alice_events = [
            playback("play", 0, timestamp="2026-11-29T10:00:00Z"),
            playback("view_progress", 30, timestamp="2026-11-29T10:00:30Z"),
            playback("end", 100, timestamp="2026-11-29T10:01:40Z"),
        ]
        alice_events.append(playback("view_progress", 10, film=OTHER_FILM, event_id=retried))
        assert (
            await app.events.post("/api/v1/events", json={"events": alice_events}, headers=alice)
        ).status_code == 202
        # A client retry of the same event_id is stored once.
        retry = playback("view_progress", 10, film=OTHER_FILM, event_id=retried)
        assert (
            await app.events.post("/api/v1/events", json=retry, headers=alice)
        ).status_code == 202
        bob_events = {"events": [playback("play", 0), playback("view_progress", 40)]}
        assert (
            await app.events.post("/api/v1/events", json=bob_events, headers=bob)
        ).status_code == 202

        assert await wait_for_rows(warehouse, pipeline_settings.clickhouse.database, 6) == 6

        stats = (
            await app.analytics.get(f"/api/v1/analytics/films/{FILM}/stats", headers=alice)
        ).json()
        assert stats["viewers"] == 2
        assert stats["completions"] == 1
        assert stats["watch_seconds"] == 140  # alice 0->100, bob 0->40
        assert stats["average_completion"] == pytest.approx(0.7)
        # Any period is computed when asked; the last 7 and 30 days come from
        # rankings kept ready, which catch up within their refresh interval.
        week_and_a_day = (datetime.now(UTC).date() - timedelta(days=8)).isoformat()
        top = await app.analytics.get(
            "/api/v1/analytics/films/top", params={"since": week_and_a_day}, headers=alice
        )
        assert [t["film_id"] for t in top.json()] == [FILM, OTHER_FILM]
        assert "age" not in top.headers
        ready = await eventually_top(app.analytics, alice, [FILM, OTHER_FILM])
        assert ready.headers["age"].isdigit()  # seconds since the ranking was made
        resume = (
            await app.analytics.get("/api/v1/analytics/users/me/resume", headers=alice)
        ).json()
        assert {r["film_id"]: r["position_sec"] for r in resume} == {FILM: 100, OTHER_FILM: 10}
        # Bob sent no timestamps: his events keep the order of his request.
        bob_resume = (
            await app.analytics.get("/api/v1/analytics/users/me/resume", headers=bob)
        ).json()
        assert [r["position_sec"] for r in bob_resume] == [40]
        viewers = (
            await app.analytics.get(f"/api/v1/analytics/films/{FILM}/viewers", headers=bob)
        ).json()
        assert viewers["viewers"] == 2
        average = (
            await app.analytics.get(
                f"/api/v1/analytics/films/{OTHER_FILM}/average-position", headers=bob
            )
        ).json()
        assert (average["average_position_sec"], average["events"]) == (10, 1)
        most = await app.analytics.get(
            f"/api/v1/analytics/users/{user_id('alice')}/films/{FILM}/max-position", headers=analyst
        )
        assert most.json()["max_position_sec"] == 100
        films = await app.analytics.get(
            f"/api/v1/analytics/users/{user_id('alice')}/films/count", headers=analyst
        )
        assert films.json()["films"] == 2
        forbidden = await app.analytics.get(
            f"/api/v1/analytics/users/{user_id('alice')}/resume", headers=bob
        )
        assert forbidden.status_code == 403


async def test_a_poison_message_goes_to_the_dead_letter_topic_and_the_rest_lands(
    pipeline_settings: Settings, warehouse: ChdbSink, token_for: Callable[..., str]
) -> None:
    settings = pipeline_settings
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka.bootstrap, enable_idempotence=False
    )
    await producer.start()
    try:
        async for app in running(settings, warehouse):
            headers = {"Authorization": f"Bearer {token_for('dave')}", "X-Request-Id": "req-poison"}
            await app.events.post(
                "/api/v1/events", json={"events": [playback("play", 1)] * 3}, headers=headers
            )
            # A record of three lines, the middle one poison: the other two land.
            good = Arrival.now("dave").records(
                [EVENT_ADAPTER.validate_python(playback("stop", 3)) for _ in range(2)]
            )
            poison = await producer.send_and_wait(
                settings.kafka.topic, b"\n".join([good[0], POISON, good[1]]), key=b"dave",
                headers=[("x-request-id", b"req-poison")],
            )  # fmt: skip
            await app.events.post(
                "/api/v1/events", json={"events": [playback("pause", 2)] * 2}, headers=headers
            )

            assert await wait_for_rows(warehouse, settings.clickhouse.database, 7) == 7
            (dead,) = await read_topic(
                settings.kafka.bootstrap or "", settings.loader.dead_letter_topic, 1
            )
    finally:
        await producer.stop()
    found = dict(dead.headers)
    assert dead.value == POISON
    assert int(found["ugc-source-partition"]) == poison.partition
    assert int(found["ugc-source-offset"]) == poison.offset
    assert found["ugc-source-line"] == b"1"
    assert b"uuid" in found["ugc-dead-letter-reason"].lower()
    assert found["x-request-id"] == b"req-poison"


class FailingFor:
    """The real sink, refusing the first `failures` inserts as an unavailable server would."""

    def __init__(self, sink: ChdbSink, failures: int) -> None:
        self._sink = sink
        self.left = failures

    async def insert_json_rows(
        self, table: str, columns: Sequence[str], rows: bytes, *, dedup_token: str
    ) -> None:
        if self.left > 0:
            self.left -= 1
            raise WarehouseUnavailable("Code: 242. DB::Exception: Table is in readonly mode")
        await self._sink.insert_json_rows(table, columns, rows, dedup_token=dedup_token)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sink, name)


async def test_clickhouse_failing_for_a_while_delays_rows_but_loses_none(
    pipeline_settings: Settings, warehouse: ChdbSink, token_for: Callable[..., str]
) -> None:
    flaky = FailingFor(warehouse, failures=4)
    headers = {"Authorization": f"Bearer {token_for('erin')}"}
    async for app in running(pipeline_settings, flaky):
        for position in range(10):
            await app.events.post(
                "/api/v1/events", json=playback("view_progress", position), headers=headers
            )

        assert await wait_for_rows(warehouse, pipeline_settings.clickhouse.database, 10) == 10
        assert app.loader.stats.insert_failures == 4
        assert app.loader.stats.dead_lettered == 0
    assert flaky.left == 0
    table = f"{pipeline_settings.clickhouse.database}.events"
    rows = await warehouse.query(
        f"SELECT arraySort(groupArray(position_sec)) AS p FROM {table} FINAL"
    )
    assert rows[0]["p"] == [float(p) for p in range(10)]


class FirstInsertLast:
    """The real sink, finishing the first insert only after a later one went in, as
    a server running two inserts at once may."""

    def __init__(self, sink: ChdbSink) -> None:
        self._sink = sink
        self.inserts = 0
        self.later_in = asyncio.Event()
        self.release_first = asyncio.Event()

    async def insert_json_rows(
        self, table: str, columns: Sequence[str], rows: bytes, *, dedup_token: str
    ) -> None:
        self.inserts += 1
        first = self.inserts == 1
        if first:
            await self.release_first.wait()
        await self._sink.insert_json_rows(table, columns, rows, dedup_token=dedup_token)
        if not first:
            self.later_in.set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sink, name)


async def test_offsets_are_committed_in_batch_order_whatever_order_inserts_end_in(
    pipeline_settings: Settings, warehouse: ChdbSink
) -> None:
    settings = pipeline_settings.replace(kafka_partitions=1, loader_max_rows=5)
    await ensure_topic(settings.kafka)
    lines = Arrival.now("frank").records(
        [EVENT_ADAPTER.validate_python(playback("view_progress", p)) for p in range(10)]
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap)
    await producer.start()
    try:
        for line in lines:  # a record each: two batches of five
            await producer.send_and_wait(settings.kafka.topic, line, key=b"frank")
    finally:
        await producer.stop()
    sink = FirstInsertLast(warehouse)
    async with loader_running(settings, sink):  # type: ignore[arg-type]
        try:
            await asyncio.wait_for(sink.later_in.wait(), timeout=30)
            # The second batch is in, the first is not: committing the second's offsets
            # now would make a crash skip the first.
            await asyncio.sleep(1)
            assert await committed(settings) is None

            sink.release_first.set()
            assert await wait_for_rows(warehouse, settings.clickhouse.database, 10) == 10
            deadline = asyncio.get_running_loop().time() + 30
            while await committed(settings) != 10:
                assert asyncio.get_running_loop().time() < deadline, "offsets never committed"
                await asyncio.sleep(0.1)
        finally:
            sink.release_first.set()


async def committed(settings: Settings) -> int | None:
    """The loader group's committed offset of the topic's only partition."""
    reader = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka.bootstrap,
        group_id=settings.loader.group,
        enable_auto_commit=False,
    )
    await reader.start()
    try:
        offset: int | None = await reader.committed(TopicPartition(settings.kafka.topic, 0))
    finally:
        await reader.stop()
    return offset
