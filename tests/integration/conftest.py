"""Real local servers, started once per test session on free ports."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from tests.servers import started
from ugc.devstack.processes import ManagedProcess, free_port
from ugc.devstack.servers import LocalBroker, LocalDocumentStore
from ugc.observability.logs import configure_logging
from ugc.settings import Settings
from ugc.warehouse.embedded import ChdbSink
from ugc.web.cors import CorsPolicy
from ugc.web.server import Host, server_config
from ugc.web.service import Service

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    server = LocalBroker(free_port(), tmp_path_factory.mktemp("broker-logs"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def document_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalDocumentStore]:
    root = tmp_path_factory.mktemp("document-store")
    server = LocalDocumentStore(free_port(), root / "data", root / "logs")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mongo_settings(base_settings: Settings, document_store: LocalDocumentStore) -> Settings:
    """Settings on the shared document store, with a database of this test's own."""
    return base_settings.replace(
        mongo_url=document_store.url, mongo_database=f"t_{uuid.uuid4().hex[:12]}"
    )


@pytest.fixture
def kafka_settings(base_settings: Settings, broker: LocalBroker) -> Settings:
    """Settings on the shared broker, with a topic of this test's own."""
    return base_settings.replace(
        kafka_bootstrap=broker.bootstrap,
        kafka_idempotence=False,
        kafka_topic=f"events-{uuid.uuid4().hex[:12]}",
        # Erasures are the broker's for good: each test keeps its own.
        kafka_suppressions_topic=f"suppressions-{uuid.uuid4().hex[:12]}",
        kafka_partitions=3,
    )


async def http_client(
    opened: AbstractAsyncContextManager[Service], *, raise_app_exceptions: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on a service while it is open (its clients opened, then closed).

    Starlette re-raises an unhandled exception after it answered 500 (so the
    server logs it); `raise_app_exceptions=False` lets a test read that answer.
    """
    async with opened as service, client_of(service, raise_app_exceptions) as client:
        yield client


@asynccontextmanager
async def client_of(
    service: Service, raise_app_exceptions: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on a service that is open."""
    transport = httpx.ASGITransport(app=service, raise_app_exceptions=raise_app_exceptions)
    async with httpx.AsyncClient(transport=transport, base_url="http://ugc.test") as client:
        yield client


@asynccontextmanager
async def real_server(
    open_services: Callable[[], AbstractAsyncContextManager[Sequence[Service]]],
    settings: Settings,
) -> AsyncIterator[str]:
    """The services behind the real server (uvicorn with ugc's protocol) on the
    settings' port, in this test's event loop; yields the base URL."""
    host = Host(open_services, settings)
    config = server_config(host, settings.http, cors=CorsPolicy.for_settings(settings))
    async with started(uvicorn.Server(config)):
        yield f"http://127.0.0.1:{settings.http.port}"


async def read_topic(
    bootstrap: str, topic: str, expected: int, timeout_s: float = 10.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of a topic from the start, without a consumer group.

    Reads until `expected` records came, then a little longer, so that an extra
    (duplicate) record would be seen too.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[ConsumerRecord[bytes, bytes]] = []
        deadline = time.monotonic() + timeout_s
        while len(records) < expected and time.monotonic() < deadline:
            for messages in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(messages)
        for messages in (await consumer.getmany(timeout_ms=300)).values():
            records.extend(messages)
        return records
    finally:
        await consumer.stop()


async def read_events(
    bootstrap: str, topic: str, expected: int, timeout_s: float = 10.0
) -> list[tuple[ConsumerRecord[bytes, bytes], dict[str, Any]]]:
    """Every event of a topic from the start, with the record that carries it.

    A record holds the events of one request, one JSON object a line.
    """
    found: list[tuple[ConsumerRecord[bytes, bytes], dict[str, Any]]] = []
    deadline = time.monotonic() + timeout_s
    while True:
        records = await read_topic(bootstrap, topic, 1 if expected else 0, 1.0)
        found = [(r, orjson.loads(line)) for r in records for line in r.value.split(b"\n")]
        if len(found) >= expected or time.monotonic() > deadline:
            return found


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbSink]:
    """The embedded ClickHouse of this test process: chdb opens one directory per
    process, so tests share it and each uses a database of its own."""
    sink = ChdbSink(tmp_path_factory.mktemp("clickhouse"))
    yield sink
    asyncio.run(sink.close())


@pytest.fixture
def pipeline_settings(kafka_settings: Settings) -> Settings:
    """A topic, consumer group, dead-letter topic and ClickHouse database of this test."""
    tag = uuid.uuid4().hex[:12]
    return kafka_settings.replace(
        clickhouse_database=f"t_{tag}",
        loader_group=f"loader-{tag}",
        dead_letter_topic=f"dead-letter-{tag}",
        loader_max_wait_s=0.2,
        loader_retry_cap_s=0.5,
        loader_session_timeout_ms=6000,
        analytics_rankings_refresh_s=0.2,
    )


async def wait_for_rows(sink: ChdbSink, database: str, expected: int, timeout_s: float = 60) -> int:
    """Poll (no sleeps in the test) until the events table holds `expected` rows."""
    deadline = time.monotonic() + timeout_s
    count = -1
    while time.monotonic() < deadline:
        rows = await sink.query(f"SELECT count() AS n FROM {database}.events FINAL")
        count = int(rows[0]["n"])
        if count >= expected:
            return count
        await asyncio.sleep(0.1)
    return count


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "ugc.log"
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("ugc-test", level="DEBUG", file=path)
    yield path
    root.handlers[:], level = saved
    root.setLevel(level)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def loader_process(
    settings: Settings, data_dir: Path, log: Path, metrics_port: int = 0
) -> ManagedProcess:
    env = {
        **os.environ,
        "UGC_ENVIRONMENT": "test",
        "UGC_DATA_DIR": str(data_dir),
        "UGC_KAFKA_BOOTSTRAP": settings.kafka.bootstrap or "",
        "UGC_KAFKA_TOPIC": settings.kafka.topic,
        "UGC_KAFKA_SUPPRESSIONS_TOPIC": settings.kafka.suppressions_topic,
        "UGC_KAFKA_IDEMPOTENCE": "false",
        "UGC_LOADER_GROUP": settings.loader.group,
        "UGC_LOADER_MAX_ROWS": "300",
        "UGC_LOADER_MAX_WAIT_S": "0.2",
        "UGC_LOADER_SESSION_TIMEOUT_MS": "6000",
        "UGC_DEAD_LETTER_TOPIC": settings.loader.dead_letter_topic,
        "UGC_METRICS_PORT": str(metrics_port),
    }
    return ManagedProcess("loader", [sys.executable, "-m", "ugc", "etl"], log, env=env)


def wait_for_line(log: Path, text: str, after: int, timeout_s: float = 60) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        content = log.read_text(errors="replace") if log.exists() else ""
        found = content.find(text, after)
        if found >= 0:
            return found + len(text)
        time.sleep(0.05)
    raise AssertionError(
        f"{text!r} not in the loader's log within {timeout_s} s:\n{content[-3000:]}"
    )
