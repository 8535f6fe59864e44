"""A viewer's rows through the whole pipeline (events API -> Kafka -> loader ->
ClickHouse -> analytics API): Continue Watching, history and trending."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import user_id
from tests.integration.test_pipeline import Pipeline, running
from ugc.analytics.queries import AnalyticsQueries
from ugc.analytics.trending import Window, trending
from ugc.settings import Settings
from ugc.warehouse.embedded import ChdbSink

pytestmark = pytest.mark.integration

ROW = "/api/v1/analytics/users/me/continue-watching"
HISTORY = "/api/v1/analytics/users/me/history"


class Viewer:
    """One viewer's player: events with times of the test's choosing, each batch
    waited for until ClickHouse holds it."""

    def __init__(self, app: Pipeline, token: str) -> None:
        self.app = app
        self.headers = {"Authorization": f"Bearer {token}"}
        self.clock = datetime.now(UTC) - timedelta(hours=2)

    async def watch(self, film: str, *positions: float, **film_facts: Any) -> list[dict[str, Any]]:
        """Events at these positions, a minute apart; a negative one is a seek back to
        its magnitude from the position before."""
        events = []
        for position in positions:
            self.clock += timedelta(minutes=1)
            event: dict[str, Any] = {
                "film_id": film,
                "timestamp": film_facts.get("at", self.clock).isoformat(),
                **{k: v for k, v in film_facts.items() if k != "at"},
            }
            if position < 0:
                event |= {
                    "type": "seek",
                    "from_sec": events[-1]["position_sec"],
                    "to_sec": -position,
                }
            else:
                event |= {"type": "view_progress", "position_sec": position}
            events.append(event)
        await self.send(events)
        return events

    async def send(self, events: list[dict[str, Any]]) -> None:
        """Post the events, and wait until the loader has inserted them (a replay of
        ids already stored included: it is inserted, and collapses later)."""
        before = self.app.loader.stats.rows
        sent = await self.app.events.post(
            "/api/v1/events", json={"events": events}, headers=self.headers
        )
        assert sent.status_code == 202, sent.text
        deadline = time.monotonic() + 30
        while self.app.loader.stats.rows < before + len(events):
            assert time.monotonic() < deadline, "the loader did not insert the events"
            await asyncio.sleep(0.05)

    async def row(self) -> dict[str, float]:
        """Continue Watching as {film: progress}."""
        answer = await self.app.analytics.get(ROW, headers=self.headers)
        assert answer.status_code == 200, answer.text
        return {item["film_id"]: item["progress"] for item in answer.json()["items"]}

    async def history(self) -> list[tuple[str, int]]:
        answer = await self.app.analytics.get(HISTORY, headers=self.headers)
        assert answer.status_code == 200, answer.text
        return [(item["film_id"], item["viewing"]) for item in answer.json()["items"]]

    async def resume(self) -> dict[str, float]:
        answer = await self.app.analytics.get(
            "/api/v1/analytics/users/me/resume", headers=self.headers
        )
        return {r["film_id"]: r["position_sec"] for r in answer.json()}


async def test_one_viewer_through_the_rows_lifecycle(
    pipeline_settings: Settings, warehouse: ChdbSink, token_for: Callable[..., str]
) -> None:
    credits, plain, hidden, old = (str(uuid.uuid4()) for _ in range(4))
    film = {"duration_sec": 1000.0}
    async for app in running(pipeline_settings, warehouse):
        alice = Viewer(app, token_for("alice"))
        # 2% is no resume point: not in the row, though /resume knows it.
        await alice.watch(credits, 20, credits_sec=850, **film)
        assert await alice.row() == {}
        assert (await alice.resume())[credits] == 20
        await alice.watch(credits, 500, credits_sec=850, **film)
        assert await alice.row() == {credits: 0.5}
        # Past the credits (85%, under the 90% of a film without them) it is complete.
        await alice.watch(credits, 860, credits_sec=850, **film)
        assert await alice.row() == {}
        assert await alice.history() == [(credits, 1)]
        # Seeking back and forth past the threshold, resuming: no new viewing.
        await alice.watch(credits, 900, -500, 600, -950, credits_sec=850, **film)
        assert await alice.row() == {}
        assert await alice.history() == [(credits, 1)]
        # Without credits, 88% is still in the row and 92% completes.
        await alice.watch(plain, 300, 880, **film)
        assert await alice.row() == {plain: 0.88}
        await alice.watch(plain, 920, **film)
        assert await alice.row() == {}
        assert await alice.history() == [(plain, 1), (credits, 1)]
        # The same events again (a replay) add nothing.
        replay = await alice.watch(hidden, 400, **film)
        for event in replay:
            event["event_id"] = str(uuid.uuid4())
        await alice.send(replay)
        await alice.send(replay)
        assert await alice.row() == {hidden: 0.4}
        # Hidden: out of the row, the resume point kept.
        gone = await app.analytics.delete(f"{ROW}/{hidden}", headers=alice.headers)
        assert gone.status_code == 204, gone.text
        assert (
            await app.analytics.delete(f"{ROW}/{hidden}", headers=alice.headers)
        ).status_code == 204
        assert await alice.row() == {}
        assert (await alice.resume())[hidden] == 400
        # Any later playback brings it back.
        alice.clock = datetime.now(UTC) + timedelta(seconds=1)
        await alice.watch(hidden, 450, **film)
        assert await alice.row() == {hidden: 0.45}
        # A rewatch from the start region completes as a second viewing.
        await alice.watch(credits, 10, 400, **film, credits_sec=850)
        assert await alice.row() == {credits: 0.4, hidden: 0.45}
        await alice.watch(credits, 870, **film, credits_sec=850)
        assert await alice.history() == [(credits, 2), (plain, 1), (credits, 1)]
        # Idle past the window (112 days): out of the row, still resumable.
        await alice.watch(old, 500, at=datetime.now(UTC) - timedelta(days=113), **film)
        assert old not in await alice.row()
        assert (await alice.resume())[old] == 500
        # A film under 300 s never enters the row; it can still complete.
        short = str(uuid.uuid4())
        await alice.watch(short, 100, duration_sec=200.0)
        assert short not in await alice.row()

        # Paging walks the whole history, newest first, with its total.
        walked, cursor = [], None
        while True:
            params: dict[str, Any] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
            page = (await app.analytics.get(HISTORY, params=params, headers=alice.headers)).json()
            assert page["total"] == 3
            walked += [(i["film_id"], i["viewing"]) for i in page["items"]]
            if not (cursor := page["next_cursor"]):
                break
        assert walked == await alice.history()
        bad = await app.analytics.get(
            HISTORY, params={"cursor": "bm90LWEtY3Vyc29y"}, headers=alice.headers
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "cursor"

        # Another viewer never sees the row; an analyst reads it, and changes nothing.
        someone = {"Authorization": f"Bearer {token_for('bob')}"}
        analyst = {"Authorization": f"Bearer {token_for('carol', roles=['analyst'])}"}
        hers = f"/api/v1/analytics/users/{user_id('alice')}"
        for path in ("continue-watching", "history"):
            assert (await app.analytics.get(f"{hers}/{path}", headers=someone)).status_code == 403
            read = await app.analytics.get(f"{hers}/{path}", headers=analyst)
            assert read.status_code == 200
        row = await app.analytics.get(f"{hers}/continue-watching", headers=analyst)
        assert [item["film_id"] for item in row.json()["items"]] == [hidden]
        for who in (someone, analyst):
            hide = await app.analytics.delete(f"{hers}/continue-watching/{hidden}", headers=who)
            assert hide.status_code == 403
        assert await alice.row() == {hidden: 0.45}
        assert await Viewer(app, token_for("bob")).row() == {}


async def test_trending_weighs_each_viewer_once_by_their_last_hour(
    pipeline_settings: Settings, warehouse: ChdbSink, token_for: Callable[..., str]
) -> None:
    """Hand-computed with a half-life of 24 h: a viewer of k days ago counts 0.5^k."""
    top, steady, crowd = sorted(str(uuid.uuid4()) for _ in range(3))
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    days_ago = {
        top: [0, 0],  # two viewers this hour: 2.0
        steady: [0, 1],  # 1.0 + 0.5 = 1.5 (the first also 2 days ago: counted once)
        crowd: [3] * 6,  # six viewers 3 days ago: 6 * 0.125 = 0.75
    }
    database = pipeline_settings.clickhouse.database
    async for app in running(pipeline_settings, warehouse):
        for film, ages in days_ago.items():
            for number, age in enumerate(ages):
                viewer = Viewer(app, token_for(f"{film}-{number}"))
                times = [now - timedelta(days=age)]
                if film == steady and number == 0:
                    times.insert(0, now - timedelta(days=2))
                for at in times:
                    await viewer.watch(film, 600, at=at, duration_sec=5400.0)
        queries = AnalyticsQueries(warehouse, database)
        week = await trending(
            queries, database, window=Window.week, half_life_h=24, limit=10, now=now
        )
        assert [(str(f.film_id), f.score, f.viewers) for f in week] == [
            (top, 2.0, 2),
            (steady, 1.5, 2),
            (crowd, 0.75, 6),
        ]
        day = await trending(
            queries, database, window=Window.day, half_life_h=24, limit=10, now=now
        )
        assert [(str(f.film_id), f.score, f.viewers) for f in day] == [
            (top, 2.0, 2),
            (steady, 1.0, 1),
        ]

        # The API answers the same order from the ranking it keeps, with its age.
        headers = {"Authorization": f"Bearer {token_for('dave')}"}
        deadline = time.monotonic() + 10
        while True:
            answer = await app.analytics.get(
                "/api/v1/analytics/films/trending", params={"window": "week"}, headers=headers
            )
            assert answer.status_code == 200
            if [f["film_id"] for f in answer.json()] == [top, steady, crowd]:
                break
            assert time.monotonic() < deadline, answer.json()
            await asyncio.sleep(0.05)
        assert answer.headers["age"].isdigit()
        wrong = await app.analytics.get(
            "/api/v1/analytics/films/trending", params={"window": "year"}, headers=headers
        )
        assert wrong.status_code == 422
