"""Whether an account's erasure was asked for, read from the erasure requests the
privacy service keeps in the same database (`ERASURES`, one per user)."""

from __future__ import annotations

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from ugc.content.store.mongo import Document, MongoStore, translate_errors
from ugc.content.store.turns import Turns

ERASURES = "erasures"


class MongoAccounts(MongoStore):
    def __init__(
        self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document], turns: Turns[str]
    ) -> None:
        super().__init__(client, db, turns)
        self._erasures = db[ERASURES]

    @translate_errors
    async def erased(self, user_id: str) -> bool:
        found = await self._erasures.find_one({"user_id": user_id}, projection={"_id": True})
        return found is not None
