"""The client, the indexes, transactions and the translation of driver errors."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar

import pymongo
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    ExecutionTimeout,
    NetworkTimeout,
    PyMongoError,
    ServerSelectionTimeoutError,
    WTimeoutError,
)

from ugc.content.errors import StoreUnavailable
from ugc.content.store.abandoned import AbandonedTransactions
from ugc.content.store.turns import Turns

Document = dict[str, Any]
P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound="MongoStore")

RANKING_TTL_S = 3600

INDEXES: dict[str, list[IndexModel]] = {
    "ratings": [
        IndexModel([("user_id", ASCENDING), ("film_id", ASCENDING)], unique=True),
        IndexModel([("user_id", ASCENDING), ("_id", DESCENDING)]),
    ],
    # film_stats (ratings summary, review count) and user_stats (bookmarks) are
    # keyed by _id: the film's or the user's id.
    "reviews": [
        IndexModel([("film_id", ASCENDING), ("user_id", ASCENDING)], unique=True),
        # A film's pages: every order, for all reviews and for verified reviewers'.
        *(
            IndexModel([("film_id", ASCENDING), *verified, *by, ("_id", DESCENDING)])
            for verified in ([], [("verified", ASCENDING)])
            for by in ([], [("score", DESCENDING)], [("helpfulness", DESCENDING)])
        ),
        IndexModel([("viewing_checked_at", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("queue", ASCENDING)]),  # reviews with open reports
        IndexModel([("user_id", ASCENDING), ("_id", ASCENDING)]),  # a person's, for exports
    ],
    "reviews_withheld": [
        IndexModel([("film_id", ASCENDING), ("user_id", ASCENDING)], unique=True),
        IndexModel([("status", ASCENDING), ("queue", ASCENDING)]),
        IndexModel([("user_id", ASCENDING), ("_id", ASCENDING)]),
    ],
    "review_votes": [
        IndexModel([("review_id", ASCENDING), ("user_id", ASCENDING)], unique=True),
        IndexModel([("user_id", ASCENDING), ("_id", ASCENDING)]),
    ],
    "review_reports": [
        IndexModel([("review_id", ASCENDING), ("user_id", ASCENDING)], unique=True),
        IndexModel([("review_id", ASCENDING), ("open", ASCENDING)]),
        IndexModel([("user_id", ASCENDING), ("_id", ASCENDING)]),
    ],
    "review_rankings": [
        IndexModel([("created_at", ASCENDING)], expireAfterSeconds=RANKING_TTL_S),
        IndexModel([("film_id", ASCENDING), ("listing", ASCENDING), ("created_at", DESCENDING)]),
    ],
    "audit_log": [IndexModel([("kind", ASCENDING), ("_id", DESCENDING)])],
    # Erasure requests (the privacy service's): one per user, and the pending in turn.
    "erasures": [
        IndexModel([("user_id", ASCENDING)], unique=True),
        IndexModel([("state", ASCENDING), ("requested_at", ASCENDING)]),
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
    """A client whose every operation, a transaction with its retries included,
    ends within `timeout_s` (the driver's client-side operation timeout)."""
    ms = int(timeout_s * 1000)
    return AsyncMongoClient(
        url,
        tz_aware=True,
        timeoutMS=ms,
        serverSelectionTimeoutMS=ms,
        connectTimeoutMS=ms,
        retryWrites=True,
        # A 2xx means durable: acknowledged by a majority, in their journals.
        w="majority",
        journal=True,
        appname="ugc-content",
    )


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    for collection, indexes in INDEXES.items():
        await db[collection].create_indexes(indexes)


class MongoStore:
    """A store on one client; each of its calls (`translate_errors`) is bounded by
    the client's timeout as a whole: every operation, a transaction and its retries.

    Transactions that change a document others compete for (a film's summary, a
    review's counters) take turns on it within the process (`turns`, shared by
    the stores of a service)."""

    def __init__(
        self,
        client: AsyncMongoClient[Document],
        db: AsyncDatabase[Document],
        turns: Turns[str],
        abandoned: AbandonedTransactions | None = None,
    ) -> None:
        self._client = client
        self._db = db
        self._turns = turns
        self._abandoned = abandoned
        self.timeout_s: float | None = client.options.timeout

    async def _in_turn(self, key: str, work: Callable[[AsyncClientSession], Awaitable[R]]) -> R:
        """`work` in a transaction, after the others changing `key` in this process."""
        async with self._turns.of(key, timeout_s=self.timeout_s):
            return await in_transaction(self._client, work, self._abandoned)


@contextlib.contextmanager
def store_errors() -> Iterator[None]:
    """Driver errors that mean "the database did not answer in time" -> StoreUnavailable."""
    try:
        yield
    except PyMongoError as exc:
        if isinstance(exc, _UNAVAILABLE) or exc.timeout:
            raise StoreUnavailable(
                "The content database did not answer in time; retry shortly."
            ) from exc
        raise


def translate_errors(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """The store call within the client's timeout, end to end, as StoreUnavailable past it.

    The driver bounds each operation by timeoutMS, but retries a transaction that
    keeps failing for up to 120 s; `pymongo.timeout` makes the deadline the whole call's.
    """

    @functools.wraps(method)
    async def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with store_errors(), pymongo.timeout(self.timeout_s):
            return await method(self, *args, **kwargs)

    return wrapper


async def in_transaction(
    client: AsyncMongoClient[Document],
    work: Callable[[AsyncClientSession], Awaitable[R]],
    abandoned: AbandonedTransactions | None = None,
) -> R:
    """Run `work` in a transaction, retried by the driver on transient conflicts.
    One given up on (the server did not answer in time, or the call was
    cancelled) is handed to `abandoned`, which ends it on the server."""
    async with client.start_session() as session:
        try:
            result: R = await session.with_transaction(work)
        except PyMongoError as exc:
            if abandoned is not None and (isinstance(exc, _UNAVAILABLE) or exc.timeout):
                abandoned.abandon(session.session_id)
            raise
        except asyncio.CancelledError:
            if abandoned is not None:
                abandoned.abandon(session.session_id)
            raise
        return result
