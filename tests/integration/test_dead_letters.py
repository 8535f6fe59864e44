"""Dead letters an operator can act on: the loader makes their topic before the first
one, `ugc dead-letters list` says why, from where and for which request, and
`ugc dead-letters replay` sends them back once the cause is fixed — as often as
asked, still one row per event."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tests.integration.conftest import http_client, wait_for_rows
from ugc.events.app import open_events_service
from ugc.loader.loader import Loader
from ugc.loader.process import loader_running
from ugc.settings import Settings
from ugc.warehouse.embedded import ChdbSink

pytestmark = pytest.mark.integration

FILM = str(uuid.uuid4())


def ugc(settings: Settings, *args: str) -> str:
    """The `ugc` command, as an operator runs it, on this test's topics."""
    env = {
        **os.environ,
        "UGC_ENVIRONMENT": "test",
        "UGC_KAFKA_BOOTSTRAP": settings.kafka.bootstrap or "",
        "UGC_KAFKA_TOPIC": settings.kafka.topic,
        "UGC_KAFKA_IDEMPOTENCE": "false",
        "UGC_DEAD_LETTER_TOPIC": settings.loader.dead_letter_topic,
        "COLUMNS": "250",
    }
    done = subprocess.run(
        [sys.executable, "-m", "ugc", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


async def until(condition: Callable[[], bool], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_the_loader_creates_its_dead_letter_topic_before_it_needs_one(
    pipeline_settings: Settings, warehouse: ChdbSink
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=pipeline_settings.kafka.bootstrap)
    await admin.start()
    try:
        async with loader_running(pipeline_settings, warehouse):
            topics = set(await admin.list_topics())
    finally:
        await admin.close()
    assert pipeline_settings.loader.dead_letter_topic in topics
    assert pipeline_settings.kafka.topic in topics


async def test_dead_letters_are_listed_and_replayed_once_fixed_without_duplicates(
    pipeline_settings: Settings, warehouse: ChdbSink, token_for: Callable[..., str]
) -> None:
    settings = pipeline_settings
    table = f"{settings.clickhouse.database}.events"
    headers = {"Authorization": f"Bearer {token_for('olga')}", "X-Request-Id": "refused-7"}
    loader: Loader
    async for events in http_client(open_events_service(settings)):
        async with loader_running(settings, warehouse) as loader:
            # A rule the operator added to the table, which a player's pause breaks.
            await warehouse.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT no_pause CHECK type != 'pause'"
            )
            await events.post(
                "/api/v1/events",
                json={"events": [
                    {"type": "play", "film_id": FILM, "position_sec": 1},
                    {"type": "pause", "film_id": FILM, "position_sec": 9},
                ]},
                headers=headers,
            )  # fmt: skip
            await until(lambda: loader.stats.dead_lettered == 1)
            assert await wait_for_rows(warehouse, settings.clickhouse.database, 1) == 1

            listed = await asyncio.to_thread(ugc, settings, "dead-letters", "list")
            assert "1 dead letters" in listed
            assert "VIOLATED_CONSTRAINT" in listed or "Constraint" in listed
            assert f"{settings.kafka.topic}:" in listed
            assert "#1" in listed
            assert "refused-7" in listed
            nothing = await asyncio.to_thread(
                ugc, settings, "dead-letters", "replay", "--reason", "no such reason", "--yes"
            )
            assert "no dead letters to replay" in nothing

            # The rule is dropped (the fix); the letter goes back, twice.
            await warehouse.execute(f"ALTER TABLE {table} DROP CONSTRAINT no_pause")
            for attempt in (1, 2):
                before = loader.stats.rows
                replayed = await asyncio.to_thread(
                    ugc, settings, "dead-letters", "replay", "--reason", "constraint",
                    "--since", "1h", "--yes",
                )  # fmt: skip
                assert "replayed 1 rows" in replayed, attempt
                await until(lambda before=before: loader.stats.rows == before + 1)
            assert loader.stats.dead_lettered == 1

    rows = await warehouse.query(
        f"SELECT type, count() AS n FROM {table} FINAL GROUP BY type ORDER BY type"
    )
    assert [(r["type"], int(r["n"])) for r in rows] == [("pause", 1), ("play", 1)]
