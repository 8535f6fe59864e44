"""The loader killed with SIGKILL in the middle of batches, again and again, leaves
exactly one row per accepted event; SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import http_client
from ugc.devstack.processes import ManagedProcess, free_port
from ugc.events.app import open_events_service
from ugc.settings import Settings

pytestmark = pytest.mark.integration

EVENTS = 20_000
KILLS = 3


def loader_process(
    settings: Settings, data_dir: Path, log: Path, metrics_port: int = 0
) -> ManagedProcess:
    env = {
        **os.environ,
        "UGC_ENVIRONMENT": "test",
        "UGC_DATA_DIR": str(data_dir),
        "UGC_KAFKA_BOOTSTRAP": settings.kafka.bootstrap or "",
        "UGC_KAFKA_TOPIC": settings.kafka.topic,
        "UGC_KAFKA_IDEMPOTENCE": "false",
        "UGC_LOADER_GROUP": settings.loader.group,
        "UGC_LOADER_MAX_ROWS": "300",
        "UGC_LOADER_MAX_WAIT_S": "0.2",
        "UGC_LOADER_SESSION_TIMEOUT_MS": "6000",
        "UGC_DEAD_LETTER_TOPIC": settings.loader.dead_letter_topic,
        "UGC_METRICS_PORT": str(metrics_port),
    }
    return ManagedProcess("loader", [sys.executable, "-m", "ugc", "etl"], log, env=env)


def count_rows(data_dir: Path) -> tuple[int, int, int]:
    """(rows as read with FINAL, distinct event ids, rows after a full merge), from a
    process of its own: chdb opens one directory per process."""
    path = str(data_dir / "clickhouse")
    code = (
        f"from chdb import session; s = session.Session({path!r});"
        "a = s.query('SELECT count() FROM ugc.events FINAL', 'CSV').bytes().decode().strip();"
        "b = s.query('SELECT uniqExact(event_id) FROM ugc.events', 'CSV').bytes().decode().strip();"
        "s.query('OPTIMIZE TABLE ugc.events FINAL');"
        "c = s.query('SELECT count() FROM ugc.events', 'CSV').bytes().decode().strip();"
        "print(a, b, c); s.close()"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    final, distinct, merged = (int(v) for v in out.stdout.split())
    return final, distinct, merged


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


@pytest.mark.timeout(300)  # each restart waits out the killed member's session: ~12 s
async def test_sigkill_mid_batch_again_and_again_leaves_one_row_per_event(
    pipeline_settings: Settings, token_for: Callable[..., str], tmp_path: Path
) -> None:
    settings = pipeline_settings
    async for client in http_client(open_events_service(settings)):
        for request in range(EVENTS // 100):
            headers = {"Authorization": f"Bearer {token_for(f'user-{request % 37}')}"}
            batch = [
                {"type": "view_progress", "film_id": str(uuid.uuid4()), "position_sec": i}
                for i in range(100)
            ]
            assert (
                await client.post("/api/v1/events", json={"events": batch}, headers=headers)
            ).status_code == 202

    log = tmp_path / "loader.log"
    seen = 0
    for _ in range(KILLS):
        loader = loader_process(settings, tmp_path, log)
        loader.start()
        seen = wait_for_line(log, "loaded ", seen)  # at least one batch in, more on the way
        loader.kill()
    metrics_port = free_port()
    loader = loader_process(settings, tmp_path, log, metrics_port)
    loader.start()
    caught_up = "lag by partition " + str(dict.fromkeys(range(settings.kafka.partitions), 0))
    wait_for_line(log, caught_up, seen, timeout_s=90)
    metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
    assert "ugc_loader_rows_total" in metrics
    assert 'ugc_loader_lag_messages{partition="0"} 0.0' in metrics
    loader.stop(timeout=30)  # SIGTERM; SIGKILL only past 30 s
    # Written on the way out of a clean stop, which a SIGKILL would not reach.
    assert "loader stopped" in log.read_text()

    assert count_rows(tmp_path) == (EVENTS, EVENTS, EVENTS)
