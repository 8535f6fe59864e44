"""Every query the content store sends is served by an index.

The queries are not listed here by hand: a command listener records what the
store really sends while the API is used, and each recorded read is explained.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring

from tests.conftest import user_id
from tests.integration.conftest import http_client
from ugc.content.app import open_content_service
from ugc.content.store import open_stores
from ugc.content.store.mongo import connect
from ugc.content.store.personal import MongoPersonalData
from ugc.settings import Settings

pytestmark = pytest.mark.integration

TEXT = "An honest review that is long enough to pass."
READS = {"find", "aggregate", "count", "findAndModify", "update", "delete"}


class Recorder(monitoring.CommandListener):
    def __init__(self, database: str) -> None:
        self.database = database
        self.commands: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.database_name == self.database and event.command_name in READS:
            self.commands.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


DRIVER_FIELDS = {
    "lsid", "txnNumber", "autocommit", "startTransaction", "$db", "$clusterTime", "maxTimeMS",
    "$readPreference", "writeConcern",
}  # fmt: skip


def explainable(command: dict[str, Any]) -> list[dict[str, Any]]:
    """The command as `explain` takes it, without session and driver fields.

    SecantusDB explains every `update` and `delete` as a collection scan even when
    it serves them by index (an update by _id on 50,000 documents takes 1 ms), so
    their filters are explained as the `find` that selects the same documents.
    A `count` with no query is the collection's size, which MongoDB keeps.
    """
    command = {k: v for k, v in command.items() if k not in DRIVER_FIELDS}
    name = next(iter(command))
    if name == "update":
        return [
            {"find": command["update"], "filter": u["q"], "limit": 1} for u in command["updates"]
        ]
    if name == "delete":
        return [{"find": command["delete"], "filter": d["q"]} for d in command["deletes"]]
    if name == "count" and not command.get("query"):
        return []  # the collection's size: MongoDB answers it from metadata, reading nothing
    return [command]


def stages(plan: dict[str, Any]) -> list[str]:
    found = [plan.get("stage", "")]
    for key in ("inputStage", "outerStage", "innerStage"):
        if key in plan:
            found += stages(plan[key])
    for child in plan.get("inputStages", []):
        found += stages(child)
    return found


async def test_every_content_query_uses_an_index(
    mongo_settings: Settings, token_for: Callable[..., str]
) -> None:
    recorder = Recorder(mongo_settings.mongo.database)
    monitoring.register(recorder)
    film = str(uuid.uuid4())
    users = [f"user-{i}" for i in range(12)]
    auth = {u: {"Authorization": f"Bearer {token_for(u)}"} for u in users}
    async for client in http_client(open_content_service(mongo_settings)):
        for i, user in enumerate(users):
            await client.put(
                f"/api/v1/films/{film}/rating", json={"score": i % 11}, headers=auth[user]
            )
            await client.put(f"/api/v1/users/me/bookmarks/{film}", headers=auth[user])
            made = await client.post(
                f"/api/v1/films/{film}/reviews", json={"text": TEXT}, headers=auth[user]
            )
            await client.put(
                f"/api/v1/reviews/{made.json()['id']}/vote",
                json={"value": "like"},
                headers=auth[users[0]],
            )
        review_id = made.json()["id"]
        me = auth[users[0]]
        await client.get(f"/api/v1/films/{film}/rating", headers=me)
        await client.get("/api/v1/users/me/ratings?limit=2", headers=me)
        await client.get("/api/v1/users/me/bookmarks?limit=2", headers=me)
        for sort in ("newest", "score", "helpful"):
            for verified in ("false", "true"):
                listing = f"/api/v1/films/{film}/reviews?sort={sort}&limit=5&verified={verified}"
                page = (await client.get(listing, headers=me)).json()
                if page["next_cursor"]:
                    await client.get(f"{listing}&cursor={page['next_cursor']}", headers=me)
        # Reports, and a moderator's queues, decisions and log.
        reported = made.json()["id"]
        for reporter in users[1:6]:
            await client.post(
                f"/api/v1/reviews/{reported}/reports",
                json={"reason": "spam"},
                headers=auth[reporter],
            )
        moderator = {"Authorization": f"Bearer {token_for('mod', roles=['moderator'])}"}
        for status in ("reported", "hidden", "removed"):
            await client.get(
                f"/api/v1/moderation/reviews?status={status}&limit=1", headers=moderator
            )
        await client.post(f"/api/v1/moderation/reviews/{reported}/restore", headers=moderator)
        await client.post(
            f"/api/v1/moderation/reviews/{reported}/remove",
            json={"reason": "spam"},
            headers=moderator,
        )
        await client.get("/api/v1/moderation/actions?limit=1", headers=moderator)
        await client.get(f"/api/v1/reviews/{review_id}", headers=me)
        await client.patch(
            f"/api/v1/reviews/{review_id}", json={"spoiler": True}, headers=auth[users[-1]]
        )
        await client.delete(f"/api/v1/reviews/{review_id}/vote", headers=me)
        await client.delete(f"/api/v1/reviews/{review_id}", headers=auth[users[-1]])
        await client.delete(f"/api/v1/films/{film}/rating", headers=me)
        await client.delete(f"/api/v1/users/me/bookmarks/{film}", headers=me)
    # A person's data read out and erased (the privacy API's reads of MongoDB): the
    # voter on every review, and a reporter with a rating, a review and a bookmark.
    erasing = connect(mongo_settings.mongo.url or "", timeout_s=5)
    database = mongo_settings.mongo.database
    personal = MongoPersonalData(erasing, erasing[database], open_stores(erasing, database))
    try:
        for person in (user_id(users[0]), user_id(users[1])):
            assert [kind async for kind, _ in personal.records(person)]
            assert sum((await personal.count(person)).values()) > 0
            await personal.erase(person)
            assert sum((await personal.count(person)).values()) == 0
    finally:
        await erasing.close()

    assert {c["find"] for c in recorder.commands if "find" in c} >= {
        "reviews",
        "ratings",
        "bookmarks",
    }
    mongo = AsyncMongoClient(mongo_settings.mongo.url or "")
    db = mongo[mongo_settings.mongo.database]
    problems = []
    try:
        for command in (one for recorded in recorder.commands for one in explainable(recorded)):
            explained = await db.command("explain", command, verbosity="executionStats")
            plan = stages(explained["queryPlanner"]["winningPlan"])
            stats = explained.get("executionStats", {})
            returned = max(stats.get("nReturned", 0), 1)
            if "COLLSCAN" in plan:
                problems.append(f"collection scan: {command}")
            elif stats.get("totalDocsExamined", 0) > 2 * returned + 2:
                problems.append(f"examined {stats['totalDocsExamined']} for {returned}: {command}")
    finally:
        await mongo.close()
    assert len(recorder.commands) > 20
    assert problems == [], "\n".join(problems)
