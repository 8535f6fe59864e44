"""Keyset pagination, newest first, by `_id`.

ObjectIds grow with their creation time, so `_id` descending is newest first,
and a single range on it (no `$or`) is what every index-serving planner takes.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo.asynchronous.collection import AsyncCollection

from ugc.content.store.mongo import Document
from ugc.errors import InvalidCursor
from ugc.web import cursor

NEWEST_FIRST = [("_id", -1)]


async def page(
    collection: AsyncCollection[Document], query: Document, *, limit: int, after: str | None
) -> tuple[list[Document], str | None]:
    """Up to `limit` documents of `query`, newest first, after the cursor; and the
    cursor of the next page (None at the end)."""
    if after is not None:
        query = query | older_than(after)
    found = await collection.find(query).sort(NEWEST_FIRST).limit(limit + 1).to_list()
    return found[:limit], next_cursor(found, limit)


def older_than(token: str) -> dict[str, Any]:
    """The condition "older than the cursor's document"."""
    (object_id,) = cursor.decode(token, kinds=(str,))
    return {"_id": {"$lt": object_id_of(object_id)}}


def next_cursor(found: list[Document], limit: int) -> str | None:
    """The cursor after a page fetched with `limit + 1`, or None at the end."""
    return cursor.encode([str(found[limit - 1]["_id"])]) if len(found) > limit else None


def object_id_of(text: str) -> ObjectId:
    try:
        return ObjectId(text)
    except (InvalidId, TypeError):
        raise InvalidCursor(
            "The cursor is not one this API made; start from the first page."
        ) from None
