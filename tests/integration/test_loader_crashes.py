"""The loader killed with SIGKILL in the middle of batches, again and again, leaves
exactly one row per accepted event; SIGTERM stops it cleanly."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import http_client, loader_process, wait_for_line
from ugc.devstack.processes import free_port
from ugc.events.app import open_events_service
from ugc.settings import Settings

pytestmark = pytest.mark.integration

EVENTS = 20_000
KILLS = 3


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
