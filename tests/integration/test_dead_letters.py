"""Dead letters an operator can act on: the loader makes their topic before the first
one, `ugc dead-letters list` says why, from where and for which request, and
`ugc dead-letters replay` sends them back once the cause is fixed — as often as
asked, still one row per event."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

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


async def topic_configs(admin: AIOKafkaAdminClient, topic: str) -> dict[str, str]:
    (described,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    return {entry[0]: entry[1] for entry in described.resources[0][4]}


async def test_the_loader_creates_its_dead_letter_topic_before_it_needs_one_kept_90_days(
    pipeline_settings: Settings, warehouse: ChdbSink
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=pipeline_settings.kafka.bootstrap)
    await admin.start()
    try:
        async with loader_running(pipeline_settings, warehouse):
            topics = set(await admin.list_topics())
        letters = await topic_configs(admin, pipeline_settings.loader.dead_letter_topic)
    finally:
        await admin.close()
    assert pipeline_settings.loader.dead_letter_topic in topics
    assert pipeline_settings.kafka.topic in topics
    assert letters["retention.ms"] == str(90 * 24 * 3600 * 1000)


async def test_a_dead_letter_topic_kept_too_briefly_is_named_with_the_command_to_fix_it(
    pipeline_settings: Settings, warehouse: ChdbSink, caplog: pytest.LogCaptureFixture
) -> None:
    """An older release made the topic with the broker's 7 days; this broker cannot
    alter configs, so the loader says what to run (a broker that can is altered)."""
    settings = pipeline_settings.replace(dead_letter_retention_days=30)
    week_ms = str(7 * 24 * 3600 * 1000)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap)
    await admin.start()
    try:
        topic = settings.loader.dead_letter_topic
        await admin.create_topics([NewTopic(topic, 1, 1, topic_configs={"retention.ms": week_ms})])
        with caplog.at_level(logging.WARNING, logger="ugc.events.topics"):
            async with loader_running(settings, warehouse):
                pass
        if (await topic_configs(admin, topic))["retention.ms"] == week_ms:
            warned = " ".join(r.getMessage() for r in caplog.records)
            assert f"--entity-name {topic} --add-config retention.ms=2592000000" in warned
    finally:
        await admin.close()


async def test_dead_letters_are_listed_exported_and_replayed_once_fixed_without_duplicates(
    pipeline_settings: Settings,
    warehouse: ChdbSink,
    token_for: Callable[..., str],
    tmp_path: Path,
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
            # A copy to keep past the topic's retention: a line per letter, the row in it.
            kept = tmp_path / "letters.ndjson"
            said = await asyncio.to_thread(
                ugc, settings, "dead-letters", "export", "--since", "1h", "-o", str(kept)
            )
            assert f"exported 1 dead letters to {kept}" in said
            (letter,) = [json.loads(line) for line in kept.read_text().splitlines()]
            assert letter["request_id"] == "refused-7"
            assert letter["source"].startswith(f"{settings.kafka.topic}:")
            assert "no_pause" in letter["reason"] or "onstraint" in letter["reason"]
            assert json.loads(letter["row"])["type"] == "pause"
            printed = await asyncio.to_thread(
                ugc, settings, "dead-letters", "export", "--reason", "no such reason"
            )
            assert printed == ""
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
