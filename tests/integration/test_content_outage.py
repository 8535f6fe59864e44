"""With MongoDB down the content API answers 503 in bounded time; it recovers alone."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.conftest import http_client
from ugc.content.app import open_content_service
from ugc.content.store import review_pages
from ugc.devstack.processes import free_port
from ugc.devstack.servers import LocalDocumentStore
from ugc.settings import Settings

pytestmark = pytest.mark.integration


async def test_store_down_gives_503_then_200_when_it_is_back(
    base_settings: Settings, token_for: Callable[..., str], tmp_path: Path
) -> None:
    store = LocalDocumentStore(free_port(), tmp_path / "data", tmp_path / "logs")
    store.start()
    settings = base_settings.replace(mongo_url=store.url, mongo_timeout_s=1.0)
    headers = {"Authorization": f"Bearer {token_for('u1')}"}
    path = f"/api/v1/films/{uuid.uuid4()}/rating"
    try:
        async for client in http_client(open_content_service(settings)):
            assert (await client.put(path, json={"score": 7}, headers=headers)).status_code == 200

            store.process.kill()
            started = time.monotonic()
            down = await client.get(path, headers=headers)
            elapsed = time.monotonic() - started
            assert down.status_code == 503
            assert down.headers["retry-after"] == "2"
            assert elapsed < 15  # bounded by the configured timeout, not the driver's 30 s
            assert (await client.get("/readyz")).status_code == 503

            store.start()  # same data directory: the rating is still there
            deadline = time.monotonic() + 30
            while (response := await client.get(path, headers=headers)).status_code != 200:
                assert response.status_code == 503
                assert time.monotonic() < deadline
            assert response.json()["my_score"] == 7
    finally:
        store.stop()


async def test_a_ranking_longer_than_the_frozen_cap_pages_on_by_score(
    mongo_settings: Settings, token_for: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(review_pages, "RANKING_CAP", 3)
    film = str(uuid.uuid4())
    text = "Long enough to be a review of this film."
    async for client in http_client(open_content_service(mongo_settings)):
        ids = []
        for i in range(7):
            auth = {"Authorization": f"Bearer {token_for(f'author-{i}')}"}
            made = await client.post(
                f"/api/v1/films/{film}/reviews", json={"text": text}, headers=auth
            )
            ids.append(made.json()["id"])
        me = {"Authorization": f"Bearer {token_for('reader')}"}
        for i, review_id in enumerate(ids):  # reviews 0-3 get one like, 4-6 none
            if i < 4:
                await client.put(
                    f"/api/v1/reviews/{review_id}/vote", json={"value": "like"}, headers=me
                )
        seen: list[str] = []
        cursor = ""
        while True:
            page = (
                await client.get(
                    f"/api/v1/films/{film}/reviews?sort=score&limit=2{cursor}", headers=me
                )
            ).json()
            seen += [r["id"] for r in page["items"]]
            if not page["next_cursor"]:
                break
            cursor = f"&cursor={page['next_cursor']}"

    assert sorted(seen) == sorted(ids)
    assert len(seen) == 7
    assert set(seen[:4]) == set(ids[:4])  # the liked ones first
