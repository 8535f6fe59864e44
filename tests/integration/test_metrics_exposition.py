"""What Prometheus scrapes: each API's /metrics and the loader process's, after real
traffic, pass `promtool check metrics`; every metric the alert rules use is one a
process exposes; `ugc healthcheck` (the image's HEALTHCHECK) tells up from down."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml

from tests.deploy.tools import DEPLOY, run, tool
from tests.integration.conftest import (
    http_client,
    loader_process,
    wait_for_line,
)
from ugc.analytics.app import open_analytics_service
from ugc.content.app import open_content_service
from ugc.devstack.processes import free_port
from ugc.events.app import open_events_service
from ugc.settings import Settings
from ugc.warehouse.embedded import ChdbSink

pytestmark = pytest.mark.integration

FILM = "8d3f6b5e-4a1c-4a39-9d7e-2f9c1b0e6a11"


def exposed_names(exposition: str) -> set[str]:
    names = set(re.findall(r"^# TYPE (\S+)", exposition, re.M))
    names |= set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", exposition, re.M))
    return names


def healthcheck(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ugc", "healthcheck", "--url", url, "--timeout", "5"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


async def test_every_process_exposes_metrics_promtool_accepts_and_the_alerts_use(
    pipeline_settings: Settings,
    mongo_settings: Settings,
    warehouse: ChdbSink,
    token_for: Callable[..., str],
    tmp_path: Path,
) -> None:
    promtool = tool("promtool")
    settings = pipeline_settings.replace(mongo_url=mongo_settings.mongo.url)
    auth = {"Authorization": f"Bearer {token_for('pia')}"}
    expositions: dict[str, str] = {}
    async for events in http_client(open_events_service(settings)):
        play = {"type": "play", "film_id": FILM, "position_sec": 1}
        assert (await events.post("/api/v1/events", json=play, headers=auth)).status_code == 202
        await events.post("/api/v1/events", json={"type": "nope"}, headers=auth)
        expositions["events"] = (await events.get("/metrics")).text
    async for content in http_client(open_content_service(settings)):
        await content.put(f"/api/v1/films/{FILM}/rating", json={"score": 6}, headers=auth)
        expositions["content"] = (await content.get("/metrics")).text
    async for analytics in http_client(open_analytics_service(settings, sink=warehouse)):
        await analytics.get("/api/v1/analytics/users/me/resume", headers=auth)
        expositions["analytics"] = (await analytics.get("/metrics")).text

    port = free_port()
    log = tmp_path / "loader.log"
    loader = loader_process(settings, tmp_path, log, metrics_port=port)
    loader.start()
    try:
        wait_for_line(log, "loaded ", 0)
        url = f"http://127.0.0.1:{port}/metrics"
        expositions["loader"] = httpx.get(url).text
        assert healthcheck(url).returncode == 0
    finally:
        loader.stop(timeout=30)
    down = healthcheck(url)
    assert down.returncode == 1
    assert "unhealthy" in down.stdout + down.stderr

    for name, exposition in expositions.items():
        assert "ugc_" in exposition, name
        run(promtool, "check", "metrics", stdin=exposition.encode())
    exposed = set().union(*map(exposed_names, expositions.values()))
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    used = {
        name
        for group in rules["groups"]
        for rule in group["rules"]
        for name in re.findall(r"\bugc_[a-z_]+", rule["expr"])
    }
    assert used, "the alerts use ugc metrics"
    assert used - exposed == set(), "alerts on metrics no process exposes"
