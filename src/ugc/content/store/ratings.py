"""Ratings (0-10 per user and film) in MongoDB. One transaction keeps in step with
each rating: the film's summary (so reading it is one lookup by id) and the score
shown beside the user's review of the film; the summary moves as
`content.rules.rating_move` says.

A user's count of ratings is counted when read, by the (user_id, film_id) index,
not kept in a document: one counter per user made every rating of that user write
the same document, and 50 ratings of 50 films at once conflicted until their
retries ran out."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from ugc.content.errors import NotFound
from ugc.content.models import FilmRatingSummary, Rating
from ugc.content.rules import RatingMove, rating_move, rating_summary
from ugc.content.store import keyset
from ugc.content.store.abandoned import AbandonedTransactions
from ugc.content.store.mongo import Document, MongoStore, translate_errors
from ugc.content.store.recent import Recent
from ugc.content.store.turns import Turns
from ugc.web.cursor import Page

# How long a film's summary may be served from memory; `my_score` is always read.
SUMMARY_TTL_S = 5.0


class MongoRatings(MongoStore):
    def __init__(
        self,
        client: AsyncMongoClient[Document],
        db: AsyncDatabase[Document],
        turns: Turns[str],
        abandoned: AbandonedTransactions | None = None,
    ) -> None:
        super().__init__(client, db, turns, abandoned)
        self._ratings = db["ratings"]
        self._films = db["film_stats"]
        self._reviews = db["reviews"]
        self._recent_films: Recent[str, Document] = Recent(ttl_s=SUMMARY_TTL_S, size=10_000)

    @translate_errors
    async def set(self, *, user_id: str, film_id: UUID, score: int) -> Rating:
        film = str(film_id)
        now = datetime.now(UTC)

        async def work(session: AsyncClientSession) -> Document:
            before = await self._ratings.find_one_and_update(
                {"user_id": user_id, "film_id": film},
                {"$set": {"score": score, "updated_at": now}, "$setOnInsert": {"created_at": now}},
                upsert=True,
                session=session,
            )
            move = rating_move(before["score"] if before else None, score)
            await self._films.update_one(
                {"_id": film}, {"$inc": _summary_change(move)}, upsert=True, session=session
            )
            await self._show_beside_review(film, user_id, score, session)
            return {"created_at": before["created_at"] if before else now}

        created = await self._in_turn(f"film:{film}", work)
        self._recent_films.forget(film)
        return Rating(
            film_id=film_id, score=score, created_at=created["created_at"], updated_at=now
        )

    @translate_errors
    async def remove(self, *, user_id: str, film_id: UUID) -> None:
        film = str(film_id)

        async def work(session: AsyncClientSession) -> bool:
            gone = await self._ratings.find_one_and_delete(
                {"user_id": user_id, "film_id": film}, session=session
            )
            if gone is None:
                return False
            move = rating_move(gone["score"], None)
            await self._films.update_one(
                {"_id": film}, {"$inc": _summary_change(move)}, session=session
            )
            await self._show_beside_review(film, user_id, None, session)
            return True

        removed = await self._in_turn(f"film:{film}", work)
        self._recent_films.forget(film)
        if not removed:
            raise NotFound("You have not rated this film.")

    @translate_errors
    async def summary(self, *, film_id: UUID, user_id: str) -> FilmRatingSummary:
        film = str(film_id)
        found = self._recent_films.get(film)
        if found is None:
            since = self._recent_films.stamp()
            found = await self._films.find_one({"_id": film}) or {}
            self._recent_films.put(film, found, read_since=since)
        return rating_summary(
            film_id,
            count=int(found.get("count", 0)),
            total=int(found.get("sum", 0)),
            distribution=found.get("dist", {}),
            my_score=await self.score_of(film_id=film, user_id=user_id),
        )

    @translate_errors
    async def mine(self, *, user_id: str, limit: int, after: str | None) -> Page[Rating]:
        found, cursor = await keyset.page(
            self._ratings, {"user_id": user_id}, limit=limit, after=after
        )
        return Page[Rating](
            items=[_rating(doc) for doc in found],
            total=await self._ratings.count_documents({"user_id": user_id}),
            next_cursor=cursor,
        )

    async def score_of(self, *, film_id: str, user_id: str) -> int | None:
        mine = await self._ratings.find_one(
            {"user_id": user_id, "film_id": film_id}, projection={"score": True, "_id": False}
        )
        return mine["score"] if mine else None

    async def _show_beside_review(
        self, film: str, user_id: str, score: int | None, session: AsyncClientSession
    ) -> None:
        await self._reviews.update_one(
            {"film_id": film, "user_id": user_id},
            {"$set": {"author_score": score}},
            session=session,
        )


def _summary_change(move: RatingMove) -> dict[str, int]:
    """The `$inc` of a film's summary document; never empty (a score set again)."""
    change = {"count": move.count, "sum": move.total}
    change.update({f"dist.{score}": n for score, n in move.distribution.items()})
    return change


def _rating(doc: Document) -> Rating:
    return Rating(
        film_id=UUID(doc["film_id"]),
        score=doc["score"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
    )
