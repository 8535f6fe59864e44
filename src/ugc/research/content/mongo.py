"""MongoDB through the project's own content stores: the indexes `ugc content`
creates, its transactions with their counters, its pages and cursors."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient

from ugc.content.models import ReviewSort, VoteValue
from ugc.content.store import open_stores
from ugc.content.store.bulk import import_content
from ugc.content.store.mongo import INDEXES, Document, connect, create_indexes
from ugc.research.answers import plain
from ugc.research.content.data import Content
from ugc.research.content.store import PAGE, Params, Write, distribution, page_of

DATABASE = "ugc_research"
TIMEOUT_S = 60.0  # the bulk load's batches, on a slow server


class MongoContent:
    name = "MongoDB"

    def __init__(self, client: AsyncMongoClient[Document], server: str) -> None:
        self._client = client
        self._db = client[DATABASE]
        stores = open_stores(client, DATABASE)
        self._ratings = stores.ratings
        self._reviews = stores.reviews
        self._pages = stores.review_pages
        self._bookmarks = stores.bookmarks
        self._server = server
        indexes = "; ".join(
            f"{name} " + ", ".join(_index(i.document) for i in found)
            for name, found in INDEXES.items()
        )
        self.design = (
            "the content API's collections, indexes and counters (film_stats, user_stats "
            f"by _id), and one index of the study's, ratings (film_id); indexes: {indexes}"
        )

    @classmethod
    def connect(cls, url: str, server: str) -> MongoContent:
        return cls(connect(url, timeout_s=TIMEOUT_S), server)

    async def load(self, content: Content, advance: Callable[[int], Any]) -> None:
        await self._client.drop_database(DATABASE)
        await create_indexes(self._db)
        await self._db["ratings"].create_index([("film_id", ASCENDING)])
        await import_content(
            self._db, ratings=content.ratings, reviews=content.reviews,
            bookmarks=content.bookmarks, votes=content.votes, progress=advance,
        )  # fmt: skip

    async def ask(self, query: str, params: Params) -> Any:
        user, film = params.user, params.film
        if query == "liked films of a user":
            mine = await self._ratings.mine(user_id=user, limit=PAGE, after=None)
            items = [[str(r.film_id), r.score] for r in mine.items]
            return page_of(items, mine.total, mine.next_cursor is not None)
        if query == "ratings of a film":
            grouped = self._db["ratings"].aggregate(
                [
                    {"$match": {"film_id": str(film)}},
                    {"$group": {"_id": "$score", "n": {"$sum": 1}}},
                ]
            )
            return distribution({row["_id"]: row["n"] async for row in await grouped})
        if query == "bookmarks of a user":
            marks = await self._bookmarks.page(user_id=user, limit=PAGE, after=None)
            films = [str(b.film_id) for b in marks.items]
            return page_of(films, marks.total, marks.next_cursor is not None)
        if query == "average rating of a film":
            summary = await self._ratings.summary(film_id=film, user_id=user)
            return plain(summary.model_dump(exclude={"film_id"}))
        if query in ("reviews of a film, newest first", "reviews of a film, by score"):
            sort = ReviewSort.newest if "newest" in query else ReviewSort.score
            found = await self._pages.page(film_id=film, sort=sort, limit=PAGE, after=None)
            items = [
                [r.author_id, r.text, r.likes, r.dislikes, r.score, r.author_score]
                for r in found.items
            ]
            return page_of(items, found.total, found.next_cursor is not None)
        raise ValueError(f"no such query: {query}")

    async def write(self, change: Write) -> None:
        if change.kind == "rate a film":
            await self._ratings.set(user_id=change.user, film_id=change.film, score=change.value)
        elif change.kind == "vote on a review":
            review = await self._db["reviews"].find_one(
                {"film_id": str(change.film), "user_id": change.author}, projection={"_id": True}
            )
            assert review is not None, "votes go to reviews of the study's data"
            value = VoteValue.like if change.value > 0 else VoteValue.dislike
            await self._reviews.vote(review_id=str(review["_id"]), user_id=change.user, value=value)
        elif change.kind == "bookmark a film":
            await self._bookmarks.add(user_id=change.user, film_id=change.film)
        else:
            raise ValueError(f"no such write: {change.kind}")

    async def describe(self) -> dict[str, Any]:
        info = await self._client.server_info()
        return {
            "server": self._server,
            "version": info.get("version"),
            "write_concern": "majority, journaled (the content API's)",
            "transactions": "one per write, with its counters; writers of one document "
            "take turns in the process (ugc.content.store.turns)",
        }

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._client.drop_database(DATABASE)
        await self._client.close()


def _index(document: dict[str, Any]) -> str:
    keys = ", ".join(k if v == 1 else f"{k} desc" for k, v in document["key"].items())
    extra = " unique" if document.get("unique") else ""
    if "expireAfterSeconds" in document:
        extra += f" TTL {document['expireAfterSeconds']} s"
    return f"({keys}){extra}"
