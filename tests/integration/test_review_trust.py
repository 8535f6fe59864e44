"""Reviews a cinema can publish, on the real document store and embedded ClickHouse:
the reviewer's viewing (verified), helpful first, reports and moderation."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from tests.conftest import user_id
from tests.integration.conftest import client_of
from ugc.content.app import open_content_service
from ugc.events.contract import EVENT_ADAPTER, RECORD_FIELDS
from ugc.events.records import Arrival
from ugc.settings import Settings
from ugc.warehouse.embedded import ChdbSink
from ugc.warehouse.migrations import migrate
from ugc.warehouse.sink import WarehouseUnavailable

pytestmark = pytest.mark.integration

TEXT = "An honest review that is long enough to pass."
LENGTH = 6000.0


@dataclass
class Cinema:
    api: httpx.AsyncClient
    settings: Settings
    warehouse: ChdbSink
    token_for: Callable[..., str]

    def auth(self, name: str, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token_for(name, roles=list(roles))}"}

    async def review(self, film: str, author: str) -> str:
        made = await self.api.post(
            f"/api/v1/films/{film}/reviews", json={"text": TEXT}, headers=self.auth(author)
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    async def vote(self, review: str, voter: str, value: str) -> int:
        answer = await self.api.put(
            f"/api/v1/reviews/{review}/vote", json={"value": value}, headers=self.auth(voter)
        )
        return answer.status_code

    async def report(self, review: str, reporter: str, reason: str = "spam") -> httpx.Response:
        return await self.api.post(
            f"/api/v1/reviews/{review}/reports",
            json={"reason": reason},
            headers=self.auth(reporter),
        )

    async def watch(self, film: str, viewer: str, *positions: float) -> None:
        """Playback events of the viewer, as the loader inserts them."""
        events = [
            EVENT_ADAPTER.validate_python(
                {
                    "type": "view_progress",
                    "film_id": film,
                    "position_sec": p,
                    "duration_sec": LENGTH,
                }
            )
            for p in positions
        ]
        rows = b"\n".join(Arrival.now(user_id(viewer)).records(events))
        table = f"{self.settings.clickhouse.database}.events"
        await self.warehouse.insert_json_rows(
            table, RECORD_FIELDS, rows, dedup_token=str(uuid.uuid4())
        )

    async def listing(self, film: str, viewer: str = "reader", **params: Any) -> dict[str, Any]:
        answer = await self.api.get(
            f"/api/v1/films/{film}/reviews", params=params, headers=self.auth(viewer)
        )
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found


@pytest.fixture
async def cinema(
    mongo_settings: Settings, warehouse: ChdbSink, token_for: Callable[..., str]
) -> AsyncIterator[Cinema]:
    settings = mongo_settings.replace(
        clickhouse_database=f"t_{uuid.uuid4().hex[:12]}",
        review_viewing_ttl_s=0.2,
        review_hide_after_reports=5,
        review_ranking_reuse_s=0,  # every first page ranks anew: the test casts votes
    )
    await migrate(warehouse, settings.clickhouse)
    async with open_content_service(settings, sink=warehouse) as service, client_of(service) as api:
        yield Cinema(api, settings, warehouse, token_for)


async def test_helpful_first_by_wilson_bounds_and_stable_pages_while_votes_change(
    cinema: Cinema,
) -> None:
    film = str(uuid.uuid4())
    # (likes, dislikes) -> the lower bound of the 95% Wilson interval, by hand.
    votes = {(1, 0): 0.2065, (9, 1): 0.5958, (3, 0): 0.4385, (4, 4): 0.2152, (0, 2): 0.0}
    ids = {}
    for number, (likes, dislikes) in enumerate(votes):
        review = ids[likes, dislikes] = await cinema.review(film, f"author-{number}")
        for voter in range(likes + dislikes):
            value = "like" if voter < likes else "dislike"
            assert await cinema.vote(review, f"voter-{voter}", value) == 200
    unvoted = await cinema.review(film, "author-late")  # newest, and at 0 with (0, 2)

    page = await cinema.listing(film, sort="helpful", limit=10)
    found = [(r["id"], round(r["helpfulness"], 4)) for r in page["items"]]
    assert found == [
        (ids[9, 1], 0.5958),
        (ids[3, 0], 0.4385),
        (ids[4, 4], 0.2152),
        (ids[1, 0], 0.2065),
        (unvoted, 0.0),  # a tie: the newest first
        (ids[0, 2], 0.0),
    ]

    # Pages of 2 while votes reorder the reviews: each review once, none skipped.
    first = await cinema.listing(film, sort="helpful", limit=2)
    for voter in range(12):
        await cinema.vote(ids[0, 2], f"late-voter-{voter}", "like")
    seen = [r["id"] for r in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        more = await cinema.listing(film, sort="helpful", limit=2, cursor=cursor)
        seen += [r["id"] for r in more["items"]]
        cursor = more["next_cursor"]
    assert sorted(seen) == sorted([*ids.values(), unvoted])
    fresh = await cinema.listing(film, sort="helpful", limit=1)
    assert fresh["items"][0]["id"] == ids[0, 2]  # 12 of 14 now leads, on a new listing


async def test_a_reviewer_who_watched_is_verified_and_the_mark_follows_viewing(
    cinema: Cinema,
) -> None:
    film = str(uuid.uuid4())
    await cinema.watch(film, "watcher", 600, 3600)  # 60%
    await cinema.watch(film, "skimmer", 600)  # 10%
    watcher = await cinema.review(film, "watcher")
    skimmer = await cinema.review(film, "skimmer")

    page = await cinema.listing(film)
    shown = {r["id"]: r for r in page["items"]}
    assert shown[watcher]["verified"] is True
    assert shown[watcher]["author_viewing"]["progress"] == pytest.approx(0.6)
    assert shown[skimmer]["verified"] is False
    assert shown[skimmer]["author_viewing"]["progress"] == pytest.approx(0.1)
    only = await cinema.listing(film, verified="true")
    assert [r["id"] for r in only["items"]] == [watcher]
    assert only["total"] == 1

    await cinema.watch(film, "skimmer", 5990)  # past 90%: a completed viewing
    deadline = time.monotonic() + 10
    while True:
        again = await cinema.api.get(f"/api/v1/reviews/{skimmer}", headers=cinema.auth("reader"))
        if again.json()["verified"]:
            break
        assert time.monotonic() < deadline, again.json()
        await asyncio.sleep(0.1)
    assert again.json()["author_viewing"]["completed"] is True
    assert again.json()["author_viewing"]["viewings"] == 1
    both = await cinema.listing(film, verified="true")
    assert {r["id"] for r in both["items"]} == {watcher, skimmer}


async def test_reviews_are_served_without_fresh_figures_when_the_warehouse_is_down(
    mongo_settings: Settings, token_for: Callable[..., str]
) -> None:
    class Down:
        async def query(self, sql: str, parameters: Any = None) -> list[dict[str, Any]]:
            raise WarehouseUnavailable("Code: 210. Connection refused")

    film = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {token_for('author')}"}
    opened = open_content_service(mongo_settings, sink=Down())  # type: ignore[arg-type]
    async with opened as service, client_of(service) as api:
        made = await api.post(f"/api/v1/films/{film}/reviews", json={"text": TEXT}, headers=headers)
        assert made.status_code == 201
        assert made.json()["author_viewing"] is None
        page = await api.get(f"/api/v1/films/{film}/reviews", headers=headers)
    assert page.status_code == 200
    assert [(r["id"], r["author_viewing"], r["verified"]) for r in page.json()["items"]] == [
        (made.json()["id"], None, False)
    ]


async def test_reports_hide_a_review_and_moderators_restore_and_remove_it(cinema: Cinema) -> None:
    film = str(uuid.uuid4())
    review = await cinema.review(film, "author")
    await cinema.review(film, "someone-else")
    moderator = cinema.auth("mod", "moderator")

    own = await cinema.report(review, "author")
    assert own.status_code == 403
    other = await cinema.api.post(
        f"/api/v1/reviews/{review}/reports", json={"reason": "other"}, headers=cinema.auth("r0")
    )
    assert other.status_code == 422  # `other` says why
    for number in range(4):
        assert (await cinema.report(review, f"r{number}")).status_code == 200
    again = await cinema.report(review, "r0", "abuse")  # a repeat changes the reason
    assert again.json()["reason"] == "abuse"
    queue = await cinema.api.get("/api/v1/moderation/reviews", headers=moderator)
    (waiting,) = queue.json()["items"]
    assert waiting["reports"] == {"spam": 3, "abuse": 1}
    assert (await cinema.listing(film))["total"] == 2  # four reporters: still listed

    assert (await cinema.report(review, "r4")).status_code == 200  # the fifth hides it
    listed = await cinema.listing(film)
    assert listed["total"] == 1
    assert review not in {r["id"] for r in listed["items"]}
    by_author = await cinema.api.get(f"/api/v1/reviews/{review}", headers=cinema.auth("author"))
    assert by_author.json()["status"] == "hidden"
    by_reader = await cinema.api.get(f"/api/v1/reviews/{review}", headers=cinema.auth("reader"))
    assert by_reader.status_code == 404
    assert await cinema.vote(review, "voter", "like") == 404
    hidden = await cinema.api.get("/api/v1/moderation/reviews?status=hidden", headers=moderator)
    assert [h["review"]["id"] for h in hidden.json()["items"]] == [review]

    restored = await cinema.api.post(
        f"/api/v1/moderation/reviews/{review}/restore", headers=moderator
    )
    assert restored.json()["status"] == "visible"
    assert (await cinema.listing(film))["total"] == 2
    for number in range(5):  # the same reporters again: their reports stay closed
        await cinema.report(review, f"r{number}", "abuse")
    assert (await cinema.listing(film))["total"] == 2

    removed = await cinema.api.post(
        f"/api/v1/moderation/reviews/{review}/remove",
        json={"reason": "Insults another viewer."},
        headers=moderator,
    )
    assert removed.status_code == 200
    seen = await cinema.api.get(f"/api/v1/reviews/{review}", headers=cinema.auth("author"))
    assert (seen.json()["status"], seen.json()["removal_reason"]) == (
        "removed",
        "Insults another viewer.",
    )
    assert (await cinema.listing(film))["total"] == 1
    actions = (await cinema.api.get("/api/v1/moderation/actions", headers=moderator)).json()
    assert [(a["action"], a["reason"], a["moderator_id"]) for a in actions["items"]] == [
        ("remove", "Insults another viewer.", user_id("mod")),
        ("restore", None, user_id("mod")),
    ]

    viewer = cinema.auth("r1")
    for path in ("/api/v1/moderation/reviews", "/api/v1/moderation/actions"):
        assert (await cinema.api.get(path, headers=viewer)).status_code == 403
    for action in ("restore", "remove"):
        answer = await cinema.api.post(
            f"/api/v1/moderation/reviews/{review}/{action}", json={"reason": "x"}, headers=viewer
        )
        assert answer.status_code == 403


async def test_forty_reporters_and_voters_at_once_leave_exact_counts(cinema: Cinema) -> None:
    film = str(uuid.uuid4())
    review = await cinema.review(film, "author")
    await cinema.review(film, "bystander")

    async def one(number: int) -> tuple[str, int]:
        if number % 2:
            return "vote", await cinema.vote(review, f"crowd-{number}", "like")
        return "report", (await cinema.report(review, f"crowd-{number}")).status_code

    answers = await asyncio.gather(*(one(n) for n in range(40)))
    likes = sum(1 for kind, status in answers if kind == "vote" and status == 200)
    reports = sum(1 for kind, status in answers if kind == "report" and status == 200)

    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(cinema.settings.mongo.url or "")
    db = mongo[cinema.settings.mongo.database]
    try:
        stored_votes = await db["review_votes"].count_documents({})
        withheld = await db["reviews_withheld"].find_one({})
        listed = await db["reviews"].count_documents({"film_id": film})
        counted = await db["film_stats"].find_one({"_id": film})
    finally:
        await mongo.close()
    # Hidden by the fifth report; the votes and reports after it are 404s.
    assert {status for _, status in answers} <= {200, 404}
    assert withheld is not None
    assert withheld["status"] == "hidden"
    assert withheld["open_reports"] == reports >= 5
    assert withheld["likes"] == likes == stored_votes
    assert counted is not None
    assert counted["reviews"] == listed == 1
