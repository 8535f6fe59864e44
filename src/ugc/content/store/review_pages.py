"""Pages of a film's reviews, newest first, by score or by helpfulness, of every
reviewer or of verified ones, with stable cursors.

Newest first pages by keyset on _id, which never changes. By score or
helpfulness, the order of the first page is frozen: its ranking (ids only, up to
RANKING_CAP) is stored for an hour and later pages walk it, so a vote cast while
someone pages can neither repeat a review nor skip one. A first page asked for
within `reuse_s` of the last frozen ranking of the same listing walks that one
instead of freezing another: a popular film's ranking is made once every
`reuse_s`, not on every view. Past `reuse_s`, a first page still walks the last
ranking (up to half an hour old, so its cursors live another half hour) while
the process freezes a new one in the background, one at a time: no viewer waits
for a ranking but the first of a film, and votes show in first pages within
`reuse_s` and the time the background takes. A listing longer than the cap goes
on past it by keyset on (the value, _id); ties go newest first.

Every query is an equality plus one range on an index's fields: no `$or`, so
the local server's planner serves them by index as MongoDB's does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from ugc.content.background import Background
from ugc.content.models import Review, ReviewSort
from ugc.content.rules import RANKING_CAP
from ugc.content.store import keyset
from ugc.content.store.mongo import RANKING_TTL_S, Document, MongoStore, translate_errors
from ugc.content.store.reviews import shown
from ugc.content.store.turns import Turns
from ugc.errors import InvalidCursor
from ugc.web import cursor
from ugc.web.cursor import Page

# The field each ranked order sorts by, and its type in a cursor.
_RANKED = {ReviewSort.score: ("score", int), ReviewSort.helpful: ("helpfulness", float)}
_FROZEN, _BEYOND = "f", "k"
# A first page walks a ranking at most this old: its cursors live the rest of the hour.
_STALE_AT_MOST = timedelta(seconds=RANKING_TTL_S / 2)
_NOT_OURS = "The cursor is not one this API made; start from the first page."


class MongoReviewPages(MongoStore):
    def __init__(
        self,
        client: AsyncMongoClient[Document],
        db: AsyncDatabase[Document],
        turns: Turns[str],
        *,
        reuse_s: float = 30.0,
    ) -> None:
        super().__init__(client, db, turns)
        self._reuse_s = reuse_s
        self._reviews = db["reviews"]
        self._rankings = db["review_rankings"]
        self._films = db["film_stats"]
        self._freezing: Background[tuple[str, str]] = Background("a ranking's freeze")

    @translate_errors
    async def page(
        self,
        *,
        film_id: UUID,
        sort: ReviewSort,
        limit: int,
        after: str | None,
        verified: bool = False,
    ) -> Page[Review]:
        film = str(film_id)
        query: Document = {"film_id": film} | ({"verified": True} if verified else {})
        if verified:
            total = await self._reviews.count_documents(query)
        else:
            stats = await self._films.find_one({"_id": film}, projection={"reviews": True})
            total = int((stats or {}).get("reviews", 0))
        if sort is ReviewSort.newest:
            docs, next_cursor = await keyset.page(self._reviews, query, limit=limit, after=after)
        else:
            ranked = _Ranked(query, sort, verified)
            if after is None:
                docs, next_cursor = await self._first(ranked, limit)
            else:
                docs, next_cursor = await self._later(ranked, limit, after)
        return Page[Review](
            items=[shown(doc) for doc in docs], total=total, next_cursor=next_cursor
        )

    async def _first(self, ranked: _Ranked, limit: int) -> tuple[list[Document], str | None]:
        if self._reuse_s > 0:
            now = datetime.now(UTC)
            key = {"film_id": ranked.query["film_id"], "listing": ranked.name}
            made = await self._rankings.find_one(
                key | {"created_at": {"$gte": now - _STALE_AT_MOST}}, sort=[("created_at", -1)]
            )
            if made is not None:
                if made["created_at"] < now - timedelta(seconds=self._reuse_s):
                    self._freeze_soon(ranked)
                return await self._walk(made, 0, limit)
        ranking = await self._ranking(ranked)
        if len(ranking) <= limit:
            return await self._fetch([r["_id"] for r in ranking]), None
        return await self._walk(await self._freeze(ranked, ranking), 0, limit)

    async def _ranking(self, ranked: _Ranked) -> list[Document]:
        """The listing's ids in order (with the value each is ranked by), up to the cap."""
        query = self._reviews.find(ranked.query, projection={ranked.field: True})
        return await query.sort(ranked.order).limit(RANKING_CAP).to_list()

    def _freeze_soon(self, ranked: _Ranked) -> None:
        """Freeze a new ranking of the listing in the background, unless one is on
        its way; one at a time per process, so they never crowd out the requests."""

        async def freeze() -> None:
            await self._freeze(ranked, await self._ranking(ranked))

        self._freezing.soon((ranked.query["film_id"], ranked.name), freeze)

    async def _freeze(self, ranked: _Ranked, ranking: list[Document]) -> Document:
        field = ranked.field
        snapshot = {
            "_id": ObjectId(),
            "film_id": ranked.query["film_id"],
            "listing": ranked.name,
            "ids": [r["_id"] for r in ranking],
            "last": [ranked.kind(ranking[-1].get(field, 0)), ranking[-1]["_id"]]
            if ranking
            else None,
            "complete": len(ranking) < RANKING_CAP,
            "created_at": datetime.now(UTC),
        }
        await self._rankings.insert_one(snapshot)
        return snapshot

    async def _later(
        self, ranked: _Ranked, limit: int, after: str
    ) -> tuple[list[Document], str | None]:
        tag, position = cursor.decode_tagged(
            after, {_FROZEN: (str, int), _BEYOND: (ranked.kind, str)}
        )
        if tag == _BEYOND:
            return await self._beyond(ranked, limit, position[0], keyset.object_id_of(position[1]))
        if position[1] < 0:
            raise InvalidCursor(_NOT_OURS)
        snapshot = await self._rankings.find_one({"_id": keyset.object_id_of(position[0])})
        if snapshot is None:
            raise InvalidCursor("This cursor has expired; start again from the first page.")
        if (snapshot["film_id"], snapshot.get("listing", "score")) != (
            ranked.query["film_id"],
            ranked.name,
        ):
            raise InvalidCursor(_NOT_OURS)
        return await self._walk(snapshot, position[1], limit)

    async def _walk(
        self, snapshot: Document, offset: int, limit: int
    ) -> tuple[list[Document], str | None]:
        ids = snapshot["ids"][offset : offset + limit]
        docs = await self._fetch(ids)  # reviews deleted or withheld since are left out
        end = offset + limit
        if end < len(snapshot["ids"]):
            return docs, cursor.encode([_FROZEN, str(snapshot["_id"]), end])
        if snapshot["complete"]:
            return docs, None
        value, last_id = snapshot["last"]
        return docs, cursor.encode([_BEYOND, value, str(last_id)])

    async def _beyond(
        self, ranked: _Ranked, limit: int, value: float, last_id: ObjectId
    ) -> tuple[list[Document], str | None]:
        """Past the frozen ranking: the rest of the same value, then lower values."""
        field = ranked.field
        same = ranked.query | {field: value, "_id": {"$lt": last_id}}
        found = await self._reviews.find(same).sort(ranked.order).limit(limit + 1).to_list()
        if len(found) <= limit:
            lower = ranked.query | {field: {"$lt": value}}
            more = self._reviews.find(lower).sort(ranked.order).limit(limit + 1 - len(found))
            found += await more.to_list()
        if len(found) <= limit:
            return found, None
        last = found[limit - 1]
        return found[:limit], cursor.encode([_BEYOND, ranked.kind(last[field]), str(last["_id"])])

    async def _fetch(self, ids: list[ObjectId]) -> list[Document]:
        """Reviews by id, in the order given."""
        found = {doc["_id"]: doc async for doc in self._reviews.find({"_id": {"$in": ids}})}
        return [found[i] for i in ids if i in found]


class _Ranked:
    """A ranked listing: its filter, the field it sorts by, and its name in snapshots."""

    def __init__(self, query: Document, sort: ReviewSort, verified: bool) -> None:
        self.query = query
        self.field, self.kind = _RANKED[sort]  # kind: int or float
        self.order = [(self.field, -1), ("_id", -1)]
        self.name = f"{sort.value}{':verified' if verified else ''}"
