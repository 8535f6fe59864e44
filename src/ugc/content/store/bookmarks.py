"""Bookmarks: a user's watchlist, newest first."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from ugc.content.errors import NotFound
from ugc.content.models import Bookmark
from ugc.content.store import keyset
from ugc.content.store.abandoned import AbandonedTransactions
from ugc.content.store.mongo import Document, MongoStore, translate_errors
from ugc.content.store.turns import Turns
from ugc.web.cursor import Page


class MongoBookmarks(MongoStore):
    def __init__(
        self,
        client: AsyncMongoClient[Document],
        db: AsyncDatabase[Document],
        turns: Turns[str],
        abandoned: AbandonedTransactions | None = None,
    ) -> None:
        super().__init__(client, db, turns, abandoned)
        self._bookmarks = db["bookmarks"]
        self._users = db["user_stats"]

    @translate_errors
    async def add(self, *, user_id: str, film_id: UUID) -> tuple[Bookmark, bool]:
        """The bookmark, and whether this call made it (adding twice is harmless)."""
        now = datetime.now(UTC)

        async def work(session: AsyncClientSession) -> bool:
            result = await self._bookmarks.update_one(
                {"user_id": user_id, "film_id": str(film_id)},
                {"$setOnInsert": {"created_at": now}},
                upsert=True,
                session=session,
            )
            if result.upserted_id is None:
                return False
            await self._count(user_id, 1, session)
            return True

        if await self._in_turn(f"user:{user_id}", work):
            return Bookmark(film_id=film_id, created_at=now), True
        doc = await self._bookmarks.find_one(
            {"user_id": user_id, "film_id": str(film_id)}, projection={"created_at": True}
        )
        assert doc is not None
        return Bookmark(film_id=film_id, created_at=doc["created_at"]), False

    @translate_errors
    async def remove(self, *, user_id: str, film_id: UUID) -> None:
        async def work(session: AsyncClientSession) -> bool:
            gone = await self._bookmarks.delete_one(
                {"user_id": user_id, "film_id": str(film_id)}, session=session
            )
            if gone.deleted_count:
                await self._count(user_id, -1, session)
            return bool(gone.deleted_count)

        if not await self._in_turn(f"user:{user_id}", work):
            raise NotFound("This film is not in your bookmarks.")

    @translate_errors
    async def page(self, *, user_id: str, limit: int, after: str | None) -> Page[Bookmark]:
        found, cursor = await keyset.page(
            self._bookmarks, {"user_id": user_id}, limit=limit, after=after
        )
        stats = await self._users.find_one({"_id": user_id}, projection={"bookmarks": True})
        return Page[Bookmark](
            items=[
                Bookmark(film_id=UUID(doc["film_id"]), created_at=doc["created_at"])
                for doc in found
            ],
            total=int((stats or {}).get("bookmarks", 0)),
            next_cursor=cursor,
        )

    async def _count(self, user_id: str, change: int, session: AsyncClientSession) -> None:
        await self._users.update_one(
            {"_id": user_id}, {"$inc": {"bookmarks": change}}, upsert=True, session=session
        )
