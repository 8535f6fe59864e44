"""Servers that stop answering without closing anything (SIGSTOP): every request
is answered 503 with Retry-After within its bound, readiness names the part, and
all comes back once the server does."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.conftest import http_client
from ugc.content.app import open_content_service
from ugc.devstack.processes import free_port
from ugc.devstack.servers import LocalBroker, LocalDocumentStore
from ugc.events.app import open_events_service
from ugc.settings import Settings

pytestmark = pytest.mark.integration

TIMEOUT_S = 1.0
# A bound, not a speed: hanging for the driver's own 10-120 s is what fails.
BOUND_S = 4 * TIMEOUT_S + 2


async def test_a_frozen_mongodb_gives_503_in_bound_and_readiness_names_it(
    base_settings: Settings, token_for: Callable[..., str], tmp_path: Path
) -> None:
    store = LocalDocumentStore(free_port(), tmp_path / "data", tmp_path / "logs")
    store.start()
    settings = base_settings.replace(mongo_url=store.url, mongo_timeout_s=TIMEOUT_S)
    auth = {"Authorization": f"Bearer {token_for('frank')}"}
    film = uuid.uuid4()
    try:
        async for client in http_client(open_content_service(settings)):
            put = await client.put(f"/api/v1/films/{film}/rating", json={"score": 3}, headers=auth)
            assert put.status_code == 200

            store.process.freeze()
            try:
                answers = []
                for request in (
                    client.put(f"/api/v1/films/{film}/rating", json={"score": 5}, headers=auth),
                    client.post(
                        f"/api/v1/films/{film}/reviews", json={"text": "x" * 20}, headers=auth
                    ),
                    client.get(f"/api/v1/films/{uuid.uuid4()}/rating", headers=auth),
                    client.get("/readyz"),
                ):
                    started = time.monotonic()
                    response = await request
                    answers.append((response, time.monotonic() - started))
            finally:
                store.process.thaw()

            for response, took in answers:
                assert response.status_code == 503, response.text
                assert response.headers["retry-after"] == str(settings.http.retry_after_s)
                assert response.headers["content-type"] == "application/problem+json"
                assert took < BOUND_S
            ready = answers[-1][0].json()
            assert ready["checks"] == {"mongodb": False}
            assert "mongodb" in ready["detail"]
            assert (await client.get("/readyz")).status_code == 200
    finally:
        store.stop()


async def test_a_frozen_broker_gives_503_in_bound_and_readiness_names_it(
    base_settings: Settings, token_for: Callable[..., str], tmp_path: Path
) -> None:
    broker = LocalBroker(free_port(), tmp_path)
    broker.start()
    settings = base_settings.replace(
        kafka_bootstrap=broker.bootstrap, kafka_idempotence=False, kafka_send_timeout_s=TIMEOUT_S
    )
    auth = {"Authorization": f"Bearer {token_for('gina')}"}
    event = {"type": "play", "film_id": str(uuid.uuid4()), "position_sec": 1}
    try:
        async for client in http_client(open_events_service(settings)):
            assert (
                await client.post("/api/v1/events", json=event, headers=auth)
            ).status_code == 202

            broker.process.freeze()
            try:
                started = time.monotonic()
                posted = await client.post("/api/v1/events", json=event, headers=auth)
                posted_s = time.monotonic() - started
                started = time.monotonic()
                ready = await client.get("/readyz")
                ready_s = time.monotonic() - started
            finally:
                broker.process.thaw()

            assert posted.status_code == 503
            assert ready.status_code == 503
            assert ready.headers["content-type"] == "application/problem+json"
            assert ready.json()["checks"] == {"kafka": False}
            assert max(posted_s, ready_s) < BOUND_S
    finally:
        broker.stop()
