"""Content writes come back as soon as MongoDB does, and one user's writes do not
queue behind each other."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import http_client
from ugc.content.app import open_content_service
from ugc.devstack.processes import free_port
from ugc.devstack.servers import LocalDocumentStore
from ugc.settings import Settings

pytestmark = pytest.mark.integration

TIMEOUT_S = 1.0
FREEZE_S = 10.0
RECOVERY_BOUND_S = 5.0  # a bound, not a speed: the server's own expiry is a minute


async def until_written(
    client: httpx.AsyncClient, path: str, body: object, headers: dict[str, str], *, bound_s: float
) -> tuple[int, float]:
    """Retry the write until it succeeds or the bound passes: its status and when."""
    started = time.monotonic()
    while True:
        answer = await client.put(path, json=body, headers=headers)
        took = time.monotonic() - started
        if answer.status_code < 500 or took > bound_s:
            return answer.status_code, took
        await asyncio.sleep(0.1)


async def test_writes_to_the_same_film_and_user_succeed_soon_after_a_freeze(
    base_settings: Settings, token_for: Callable[..., str], tmp_path: Path
) -> None:
    store = LocalDocumentStore(free_port(), tmp_path / "data", tmp_path / "logs")
    store.start()
    settings = base_settings.replace(mongo_url=store.url, mongo_timeout_s=TIMEOUT_S)
    auth = {"Authorization": f"Bearer {token_for('freya')}"}
    path = f"/api/v1/films/{uuid.uuid4()}/rating"
    try:
        async for client in http_client(open_content_service(settings)):
            assert (await client.put(path, json={"score": 3}, headers=auth)).status_code == 200

            store.process.freeze()
            try:
                started = time.monotonic()
                refused = await client.put(path, json={"score": 5}, headers=auth)
                await asyncio.sleep(max(0.0, FREEZE_S - (time.monotonic() - started)))
            finally:
                store.process.thaw()
            status, took = await until_written(
                client, path, {"score": 7}, auth, bound_s=RECOVERY_BOUND_S
            )

            assert refused.status_code == 503
            assert status == 200, f"the write still failed {took:.1f} s after MongoDB was back"
            summary = (await client.get(path, headers=auth)).json()
            assert (summary["count"], summary["my_score"]) == (1, 7)
    finally:
        store.stop()


async def test_fifty_ratings_by_one_user_at_once_all_succeed(
    mongo_settings: Settings, token_for: Callable[..., str]
) -> None:
    auth = {"Authorization": f"Bearer {token_for(f'rater-{uuid.uuid4()}')}"}
    films = [uuid.uuid4() for _ in range(50)]
    async for client in http_client(
        open_content_service(mongo_settings.replace(content_write_burst=100))
    ):
        answers = await asyncio.gather(
            *(
                client.put(f"/api/v1/films/{film}/rating", json={"score": n % 11}, headers=auth)
                for n, film in enumerate(films)
            )
        )
        mine = (await client.get("/api/v1/users/me/ratings?limit=100", headers=auth)).json()
        summaries = [
            (await client.get(f"/api/v1/films/{film}/rating", headers=auth)).json()
            for film in films
        ]

    assert [a.status_code for a in answers] == [200] * 50
    assert mine["total"] == 50
    assert {item["film_id"] for item in mine["items"]} == {str(f) for f in films}
    assert [(s["count"], s["my_score"]) for s in summaries] == [(1, n % 11) for n in range(50)]
