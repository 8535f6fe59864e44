"""A viewer's data rights on the real servers: the export holds everything of
theirs and nothing of anyone else's; the erasure reaches MongoDB, ClickHouse
(aggregates included, and physically) and what is still in Kafka, and the
intake refuses the erased account's tokens."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import user_id
from tests.integration.conftest import client_of
from ugc.analytics.app import open_analytics_service
from ugc.content.app import open_content_service
from ugc.devstack.servers import LocalDocumentStore
from ugc.events.app import open_events_service
from ugc.loader.loader import Loader
from ugc.loader.process import loader_running
from ugc.privacy.app import open_privacy_service
from ugc.settings import Settings
from ugc.warehouse.embedded import ChdbSink

pytestmark = pytest.mark.integration

LENGTH = 1000.0
TEXT = "A review long enough to be accepted by the API."


@dataclass
class Platform:
    events: httpx.AsyncClient
    analytics: httpx.AsyncClient
    content: httpx.AsyncClient
    privacy: httpx.AsyncClient
    settings: Settings
    warehouse: ChdbSink
    token_for: Callable[..., str]
    loader_stack: AsyncExitStack

    def auth(self, name: str, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token_for(name, roles=list(roles))}"}

    async def start_loader(self) -> Loader:
        return await self.loader_stack.enter_async_context(
            loader_running(self.settings, self.warehouse)
        )

    async def stop_loader(self) -> None:
        """The loader stopped and its clients closed, its group left."""
        await self.loader_stack.aclose()

    async def watch(self, name: str, film: str, *positions: float) -> httpx.Response:
        events = [
            {"type": "view_progress", "film_id": film, "position_sec": p, "duration_sec": LENGTH}
            for p in positions
        ]
        return await self.events.post(
            "/api/v1/events", json={"events": events}, headers=self.auth(name)
        )

    async def ok(self, answer: Any, status: int = 200) -> Any:
        response = await answer
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    async def export(self, name: str, ref: str = "me", **headers: str) -> list[dict[str, Any]]:
        answer = await self.privacy.get(
            f"/api/v1/users/{ref}/export", headers=self.auth(name) | headers
        )
        assert answer.status_code == 200, answer.text
        return [orjson.loads(line) for line in answer.content.splitlines()]

    async def rows_of(self, name: str, table: str, *, masked_too: bool = False) -> int:
        setting = " SETTINGS apply_deleted_mask = 0" if masked_too else ""
        found = await self.warehouse.query(
            f"SELECT count() AS n FROM {self.settings.clickhouse.database}.{table} "
            f"WHERE user_id = {{user:String}}{setting}",
            {"user": user_id(name)},
        )
        return int(found[0]["n"])


@pytest.fixture
async def platform(
    pipeline_settings: Settings,
    document_store: LocalDocumentStore,
    warehouse: ChdbSink,
    token_for: Callable[..., str],
) -> AsyncIterator[Platform]:
    settings = pipeline_settings.replace(
        mongo_url=document_store.url,
        mongo_database=f"t_{uuid.uuid4().hex[:12]}",
        erasure_physical_s=0,  # rows rewritten out of the parts at once
        review_ranking_reuse_s=0,
    )
    async with AsyncExitStack() as stack:

        async def client(opened: Any) -> httpx.AsyncClient:
            service = await stack.enter_async_context(opened)
            return await stack.enter_async_context(client_of(service))

        events = await client(open_events_service(settings))
        analytics = await client(open_analytics_service(settings, sink=warehouse))
        content = await client(open_content_service(settings, sink=warehouse))
        privacy = await client(open_privacy_service(settings, sink=warehouse))
        loaders = await stack.enter_async_context(AsyncExitStack())
        yield Platform(events, analytics, content, privacy, settings, warehouse, token_for, loaders)


async def until(check: Callable[[], Any], what: str, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = await check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout_s} s"
        await asyncio.sleep(0.1)


async def test_export_then_erasure_across_every_store(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ugc.privacy.export.PAGE", 3)  # events paged, as a viewer's 100,000 are
    p = platform
    film, other_film = str(uuid.uuid4()), str(uuid.uuid4())
    alice, bob, carol, dave = (user_id(n) for n in ("alice", "bob", "carol", "dave"))
    loader = await p.start_loader()

    # Viewing: alice, bob and dave watch the film; alice another one, and hides it.
    for name, positions in (("alice", (100, 300, 500)), ("bob", (50, 600)), ("dave", (10,))):
        assert (await p.watch(name, film, *positions)).status_code == 202
    assert (await p.watch("alice", other_film, 200)).status_code == 202
    await until(lambda: _loaded(loader, 7), "loading the first events")
    await p.ok(
        p.analytics.delete(
            f"/api/v1/analytics/users/me/continue-watching/{other_film}", headers=p.auth("alice")
        ),
        204,
    )
    # Content: ratings, reviews voted on both ways, bookmarks and a report.
    ratings = {"alice": 9, "bob": 6, "dave": 7}
    for name, score in ratings.items():
        await p.ok(
            p.content.put(
                f"/api/v1/films/{film}/rating", json={"score": score}, headers=p.auth(name)
            )
        )
    reviews = {}
    for name, on in (("alice", film), ("bob", film), ("carol", other_film), ("dave", film)):
        made = await p.ok(
            p.content.post(
                f"/api/v1/films/{on}/reviews", json={"text": TEXT}, headers=p.auth(name)
            ),
            201,
        )
        reviews[name] = made["id"]
    for voter, review, value in (
        ("bob", "alice", "like"), ("carol", "alice", "like"),
        ("alice", "bob", "like"), ("carol", "bob", "dislike"), ("alice", "carol", "dislike"),
    ):  # fmt: skip
        await p.ok(
            p.content.put(
                f"/api/v1/reviews/{reviews[review]}/vote",
                json={"value": value},
                headers=p.auth(voter),
            )
        )
    for name, on in (("alice", film), ("alice", other_film), ("dave", film)):
        await p.ok(p.content.put(f"/api/v1/users/me/bookmarks/{on}", headers=p.auth(name)), 201)
    await p.ok(
        p.content.post(
            f"/api/v1/reviews/{reviews['carol']}/reports",
            json={"reason": "spoiler"},
            headers=p.auth("alice"),
        )
    )

    # The export: every kind of alice's data, and nothing of anyone else's.
    lines = await p.export("alice")
    summary = lines[-1]
    kinds = Counter(line["kind"] for line in lines[:-1])
    assert kinds == {
        "event": 4, "rating": 1, "review": 1, "vote": 2, "bookmark": 2, "report": 1,
        "hidden_row": 1,
    }  # fmt: skip
    assert summary["kind"] == "summary"
    assert summary["counts"] == dict(kinds)
    assert summary["complete"] is True
    assert summary["user_id"] == alice
    text = orjson.dumps(lines).decode()
    assert bob not in text
    assert carol not in text
    assert dave not in text
    assert {line["user_id"] for line in lines if "user_id" in line} == {alice}
    packed = await p.privacy.get(
        "/api/v1/users/me/export", headers=p.auth("alice") | {"Accept-Encoding": "gzip"}
    )
    assert packed.headers["content-encoding"] == "gzip"
    assert [orjson.loads(x)["kind"] for x in packed.content.splitlines()] == [
        line["kind"] for line in lines
    ]
    # Nobody exports or erases another viewer without the privacy role.
    other = await p.privacy.get(f"/api/v1/users/{alice}/export", headers=p.auth("bob"))
    assert other.status_code == 403
    refused = await p.privacy.post(
        "/api/v1/privacy/erasures", json={"user_id": alice}, headers=p.auth("bob")
    )
    assert refused.status_code == 403
    officer = await p.export("olga", alice, **p.auth("olga", "privacy"))
    assert Counter(line["kind"] for line in officer) == Counter(line["kind"] for line in lines)

    dave_before = _without_time(await p.export("dave"))
    viewers_before = await _film_viewers(p, film)
    assert viewers_before == 3

    # Alice's events still in Kafka, not loaded, when the erasure runs.
    await p.stop_loader()
    assert (await p.watch("alice", film, 700, 800)).status_code == 202
    erasure = await p.ok(p.privacy.delete("/api/v1/users/me", headers=p.auth("alice")), 202)
    again = await p.ok(p.privacy.delete("/api/v1/users/me", headers=p.auth("alice")), 202)
    assert again["id"] == erasure["id"]
    follow = f"/api/v1/privacy/erasures/{erasure['id']}"
    assert (await p.privacy.get(follow, headers=p.auth("bob"))).status_code == 404

    # The intake refuses alice's (old) token from the suppression on.
    async def refused_now() -> bool:
        return (await p.watch("alice", film, 900)).status_code == 403

    await until(refused_now, "the intake refusing the erased account")
    problem = (await p.watch("alice", film, 900)).json()
    assert "erased" in problem["detail"]
    # Content is gone before the warehouse: the erasure waits for the loader.
    waiting = await until(
        lambda: _state(p, follow, "alice", lambda e: "content" in e["stores"]), "content erased"
    )
    assert waiting["state"] == "pending"
    assert waiting["waiting_for"]

    loader = await p.start_loader()
    done = await until(lambda: _state(p, follow, "alice", lambda e: e["state"] == "done"), "done")
    assert done["stores"]["content"]["removed"] == {
        "rating": 1, "review": 1, "vote": 2, "bookmark": 2, "report": 1,
    }  # fmt: skip
    assert done["stores"]["warehouse"]["removed"] == {
        "events": 4, "film_daily": 2, "film_viewer_hours": 2, "continue_watching_hidden": 1,
    }  # fmt: skip
    await until(lambda: _physical(p, follow), "rows rewritten out of the parts")
    # Nothing of alice anywhere, not even masked on disk; the late events never landed.
    for table in ("events", "film_daily", "film_viewer_hours", "continue_watching_hidden"):
        assert await p.rows_of("alice", table, masked_too=True) == 0, table
    assert await _film_viewers(p, film) == 2
    for path in ("resume", "history", "continue-watching"):
        answer = await p.ok(
            p.analytics.get(f"/api/v1/analytics/users/me/{path}", headers=p.auth("alice"))
        )
        assert answer in ([], {"items": [], "next_cursor": None}) or not answer.get("items")
    stats = await p.ok(
        p.analytics.get(f"/api/v1/analytics/films/{film}/stats", headers=p.auth("bob", "analyst"))
    )
    assert stats["viewers"] == 2
    summary_now = await p.ok(p.content.get(f"/api/v1/films/{film}/rating", headers=p.auth("bob")))
    assert summary_now["count"] == 2
    assert summary_now["average"] == pytest.approx(6.5)
    bob_review = await p.ok(
        p.content.get(f"/api/v1/reviews/{reviews['bob']}", headers=p.auth("bob"))
    )
    assert (bob_review["likes"], bob_review["dislikes"]) == (0, 1)
    carol_review = await p.ok(
        p.content.get(f"/api/v1/reviews/{reviews['carol']}", headers=p.auth("carol"))
    )
    assert (carol_review["likes"], carol_review["dislikes"]) == (0, 0)
    gone = await p.content.get(f"/api/v1/reviews/{reviews['alice']}", headers=p.auth("bob"))
    assert gone.status_code == 404
    listing = await p.ok(p.content.get(f"/api/v1/films/{film}/reviews", headers=p.auth("bob")))
    assert listing["total"] == 2
    assert _without_time(await p.export("dave")) == dave_before
    # Nothing the erased account sends brings anything back.
    late_rating = await p.content.put(
        f"/api/v1/films/{film}/rating", json={"score": 3}, headers=p.auth("alice")
    )
    assert late_rating.status_code == 403
    assert "erased" in late_rating.json()["detail"]
    empty = await p.export("alice")
    assert empty[-1]["counts"] == {}
    # The audit log: who asked and the receipt, never the erased content.
    audit = await _audit(p)
    assert [entry["action"] for entry in audit] == ["requested", "done"]
    assert TEXT not in orjson.dumps(audit, default=str).decode()


def _loaded(loader: Loader, rows: int) -> Any:
    async def check() -> bool:
        return loader.stats.rows >= rows

    return check()


async def _state(
    p: Platform, follow: str, name: str, ready: Callable[[dict[str, Any]], bool]
) -> dict[str, Any] | None:
    answer = await p.privacy.get(follow, headers=p.auth(name))
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found if ready(found) else None


async def _physical(p: Platform, follow: str) -> bool:
    answer = await p.privacy.get(follow, headers=p.auth("olga", "privacy"))
    return bool(answer.json()["stores"]["warehouse"]["physical_at"])


async def _film_viewers(p: Platform, film: str) -> int:
    rows = await p.warehouse.query(
        f"SELECT uniqMerge(viewers) AS n FROM {p.settings.clickhouse.database}.film_day_viewers "
        "WHERE film_id = {film:UUID}",
        {"film": film},
    )
    return int(rows[0]["n"])


async def _audit(p: Platform) -> list[dict[str, Any]]:
    from pymongo import AsyncMongoClient  # noqa: PLC0415

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(p.settings.mongo.url)
    try:
        db = client[p.settings.mongo.database]
        return await db["audit_log"].find({"kind": "erasure"}, {"_id": 0}).sort("at", 1).to_list()
    finally:
        await client.close()


def _without_time(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["kind"] != "summary"]
