"""The client, the indexes, transactions and the translation of driver errors."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    ExecutionTimeout,
    NetworkTimeout,
    ServerSelectionTimeoutError,
    WTimeoutError,
)

from ugc.content.errors import StoreUnavailable

Document = dict[str, Any]
P = ParamSpec("P")
R = TypeVar("R")

RANKING_TTL_S = 3600

INDEXES: dict[str, list[IndexModel]] = {
    "ratings": [
        IndexModel([("user_id", ASCENDING), ("film_id", ASCENDING)], unique=True),
        IndexModel([("user_id", ASCENDING), ("_id", DESCENDING)]),
    ],
    # film_stats (ratings summary, review count) and user_stats (counts) are
    # keyed by _id: the film's or the user's id.
    "reviews": [
        IndexModel([("film_id", ASCENDING), ("user_id", ASCENDING)], unique=True),
        IndexModel([("film_id", ASCENDING), ("_id", DESCENDING)]),
        IndexModel([("film_id", ASCENDING), ("score", DESCENDING), ("_id", DESCENDING)]),
    ],
    "review_votes": [
        IndexModel([("review_id", ASCENDING), ("user_id", ASCENDING)], unique=True),
    ],
    "review_rankings": [
        IndexModel([("created_at", ASCENDING)], expireAfterSeconds=RANKING_TTL_S),
    ],
    "bookmarks": [
        IndexModel([("user_id", ASCENDING), ("film_id", ASCENDING)], unique=True),
        IndexModel([("user_id", ASCENDING), ("_id", DESCENDING)]),
    ],
}

_UNAVAILABLE = (
    AutoReconnect,
    ConnectionFailure,
    ExecutionTimeout,
    NetworkTimeout,
    ServerSelectionTimeoutError,
    WTimeoutError,
)


def connect(url: str, *, timeout_s: float) -> AsyncMongoClient[Document]:
    """A client that gives up within `timeout_s` when the server cannot be reached."""
    ms = int(timeout_s * 1000)
    return AsyncMongoClient(
        url,
        tz_aware=True,
        serverSelectionTimeoutMS=ms,
        connectTimeoutMS=ms,
        socketTimeoutMS=ms * 5,
        retryWrites=True,
        # A 2xx means durable: acknowledged by a majority, in their journals.
        w="majority",
        journal=True,
        appname="ugc-content",
    )


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    for collection, indexes in INDEXES.items():
        await db[collection].create_indexes(indexes)


def translate_errors(
    method: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Driver errors that mean "the database is not reachable now" -> StoreUnavailable."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except _UNAVAILABLE as exc:
            raise StoreUnavailable("The content database is not reachable; retry shortly.") from exc

    return wrapper


async def in_transaction(
    client: AsyncMongoClient[Document],
    work: Callable[[AsyncClientSession], Awaitable[R]],
) -> R:
    """Run `work` in a transaction, retried by the driver on transient conflicts."""
    async with client.start_session() as session:
        result: R = await session.with_transaction(work)
        return result
