"""With the broker down the API answers 503 in bounded time, never 2xx; it recovers alone."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.conftest import http_client
from ugc.devstack.processes import free_port
from ugc.devstack.servers import LocalBroker
from ugc.events.app import open_events_service
from ugc.settings import Settings

pytestmark = pytest.mark.integration

FILM = "6b0b7e92-07e4-48ad-b93c-808a0d3c1f2e"
EVENT = {"type": "pause", "film_id": FILM, "position_sec": 1}


async def test_broker_down_gives_503_then_202_when_it_is_back(
    base_settings: Settings, token_for: Callable[..., str], tmp_path: Path
) -> None:
    broker = LocalBroker(free_port(), tmp_path)
    broker.start()
    settings = base_settings.replace(
        kafka_bootstrap=broker.bootstrap, kafka_idempotence=False, kafka_send_timeout_s=1.0
    )
    headers = {"Authorization": f"Bearer {token_for('u1')}"}
    try:
        async for client in http_client(open_events_service(settings)):
            assert (
                await client.post("/api/v1/events", json=EVENT, headers=headers)
            ).status_code == 202

            broker.process.kill()
            started = time.monotonic()
            down = await client.post("/api/v1/events", json=EVENT, headers=headers)
            elapsed = time.monotonic() - started
            assert down.status_code == 503
            assert down.headers["retry-after"] == "2"
            assert "Retry later" in down.json()["detail"]
            assert elapsed < 10  # bounded: the configured 1 s plus scheduling slack
            assert (await client.get("/readyz")).status_code == 503

            # The local broker keeps topics in memory: it comes back with the topic
            # re-created with one partition. Users whose key maps elsewhere meet
            # the producer's stale partitions first; that too must be a 503.
            broker.start()
            users = [{"Authorization": f"Bearer {token_for(f'u{i}')}"} for i in range(12)]
            deadline = time.monotonic() + 30
            answered: list[int] = []
            while time.monotonic() < deadline and answered[-len(users) :] != [202] * len(users):
                for user in users:
                    response = await client.post("/api/v1/events", json=EVENT, headers=user)
                    assert response.status_code in {202, 503}, response.text
                    answered.append(response.status_code)
            assert answered[-len(users) :] == [202] * len(users)
            assert (await client.get("/readyz")).status_code == 200
    finally:
        broker.stop()
