"""One person's content in MongoDB: read all of it out, or remove all of it.

Removal goes one document at a time through the same transactions the API's
own deletes use, so every counter those documents moved moves back with them:
a film's rating summary and review count, the like/dislike counts and
helpfulness of reviews the person voted on, the open reports of reviews they
reported, their own totals. Each step is safe to run again: what is gone is
not found twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from ugc.content.errors import NotFound
from ugc.content.ports import Stores
from ugc.content.rules import helpfulness, vote_move
from ugc.content.store.abandoned import AbandonedTransactions
from ugc.content.store.mongo import Document, MongoStore, translate_errors
from ugc.content.store.reviews import WITHHELD
from ugc.content.store.turns import Turns

# Kind of record (as exported and counted) -> collection and the field naming its owner.
KINDS: dict[str, tuple[str, str]] = {
    "rating": ("ratings", "user_id"),
    "review": ("reviews", "user_id"),
    "withheld_review": (WITHHELD, "user_id"),
    "vote": ("review_votes", "user_id"),
    "bookmark": ("bookmarks", "user_id"),
    "report": ("review_reports", "user_id"),
}
_PRIVATE = {"_id", "user_id", "queue", "viewing_checked_at"}


class MongoPersonalData(MongoStore):
    def __init__(
        self,
        client: AsyncMongoClient[Document],
        db: AsyncDatabase[Document],
        stores: Stores,
        turns: Turns[str] | None = None,
        abandoned: AbandonedTransactions | None = None,
    ) -> None:
        super().__init__(client, db, turns or Turns(), abandoned)
        self._stores = stores

    async def records(self, user_id: str) -> AsyncIterator[tuple[str, Document]]:
        """Every document the person owns, kind by kind, as (kind, fields), read
        with a cursor (never all at once)."""
        for kind, (collection, owner) in KINDS.items():
            cursor = self._db[collection].find({owner: user_id}).sort("_id", 1)
            async for doc in cursor:
                yield _kind_of(kind), _exported(doc)

    @translate_errors
    async def count(self, user_id: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for kind, (collection, owner) in KINDS.items():
            found = await self._db[collection].count_documents({owner: user_id})
            counts[_kind_of(kind)] = counts.get(_kind_of(kind), 0) + found
        return counts

    async def erase(self, user_id: str) -> None:
        """Remove every document the person owns, counters moving with each."""
        stores = self._stores
        for doc in await self._owned("reviews", user_id) + await self._owned(WITHHELD, user_id):
            await _gone(
                stores.reviews.delete(review_id=str(doc["_id"]), film_id=UUID(doc["film_id"]))
            )
        for doc in await self._owned("ratings", user_id):
            await _gone(stores.ratings.remove(user_id=user_id, film_id=UUID(doc["film_id"])))
        for doc in await self._owned("review_votes", user_id):
            await self._withdraw_vote(doc["review_id"], user_id)
        for doc in await self._owned("review_reports", user_id):
            await self._withdraw_report(doc["review_id"], user_id)
        for doc in await self._owned("bookmarks", user_id):
            await _gone(stores.bookmarks.remove(user_id=user_id, film_id=UUID(doc["film_id"])))
        await self._db["user_stats"].delete_one({"_id": user_id})

    @translate_errors
    async def _owned(self, collection: str, user_id: str) -> list[Document]:
        found = self._db[collection].find({"user_id": user_id}, projection=_KEYS)
        return await found.to_list()

    @translate_errors
    async def _withdraw_vote(self, review_id: ObjectId, user_id: str) -> None:
        """The vote gone, and the review's counts with it, listed or withheld."""
        votes = self._db["review_votes"]

        async def work(session: AsyncClientSession) -> None:
            key = {"review_id": review_id, "user_id": user_id}
            vote = await votes.find_one_and_delete(key, session=session)
            if vote is None:
                return
            move = vote_move(vote["value"], 0)
            for collection in ("reviews", WITHHELD):
                reviews = self._db[collection]
                review = await reviews.find_one({"_id": review_id}, session=session)
                if review is None:
                    continue
                likes, dislikes = review["likes"] + move.likes, review["dislikes"] + move.dislikes
                change = {"likes": move.likes, "dislikes": move.dislikes, "score": move.score}
                await reviews.update_one(
                    {"_id": review_id},
                    {"$inc": change, "$set": {"helpfulness": helpfulness(likes, dislikes)}},
                    session=session,
                )
                return

        await self._in_turn(f"review:{review_id}", work)

    @translate_errors
    async def _withdraw_report(self, review_id: ObjectId, user_id: str) -> None:
        """The report gone; while it was open, the review's open counts with it."""
        reports = self._db["review_reports"]

        async def work(session: AsyncClientSession) -> None:
            key = {"review_id": review_id, "user_id": user_id}
            report = await reports.find_one_and_delete(key, session=session)
            if report is None or not report["open"]:
                return
            change = {"$inc": {"open_reports": -1, f"report_reasons.{report['reason']}": -1}}
            for collection in ("reviews", WITHHELD):
                done = await self._db[collection].update_one(
                    {"_id": review_id}, change, session=session
                )
                if done.matched_count:
                    return

        await self._in_turn(f"review:{review_id}", work)


_KEYS = {"_id": True, "film_id": True, "review_id": True}


async def _gone(deleting: Any) -> None:
    """A delete through a store, where "already gone" is as good as done."""
    with contextlib.suppress(NotFound):
        await deleting


def _kind_of(kind: str) -> str:
    return "review" if kind == "withheld_review" else kind


def _exported(doc: Document) -> Document:
    """A document as the person gets it: ids as text, nothing only the store uses."""
    out: Document = {"id": str(doc["_id"])}
    for name, value in doc.items():
        if name in _PRIVATE:
            continue
        out[name] = str(value) if isinstance(value, ObjectId) else value
    return out
