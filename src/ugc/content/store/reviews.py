"""Reviews (one per user and film) and their votes (one per user and review) in
MongoDB.

A review's like/dislike counts change with its votes in one transaction, so they
always equal the votes stored, however many people vote at once; they move as
`content.rules.vote_move` says. One review per user and film is a unique index,
so two created at once cannot both pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ugc.content.errors import AlreadyExists, NotFound
from ugc.content.models import (
    AuthorViewing,
    Review,
    ReviewIn,
    ReviewPatch,
    ReviewStatus,
    VoteResult,
    VoteValue,
)
from ugc.content.rules import helpfulness, points, vote_move
from ugc.content.store.abandoned import AbandonedTransactions
from ugc.content.store.mongo import Document, MongoStore, translate_errors
from ugc.content.store.ratings import MongoRatings
from ugc.content.store.turns import Turns

_COUNTS = {"likes": True, "dislikes": True, "score": True}
_STALEST = [("viewing_checked_at", 1), ("_id", 1)]
# Reviews hidden or removed by moderation: out of every list and count, kept for
# their author (and for a moderator's restore) with their votes and reports.
WITHHELD = "reviews_withheld"
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


class MongoReviews(MongoStore):
    def __init__(
        self,
        client: AsyncMongoClient[Document],
        db: AsyncDatabase[Document],
        turns: Turns[str],
        ratings: MongoRatings,
        abandoned: AbandonedTransactions | None = None,
    ) -> None:
        super().__init__(client, db, turns, abandoned)
        self._reviews = db["reviews"]
        self._withheld = db[WITHHELD]
        self._votes = db["review_votes"]
        self._reports = db["review_reports"]
        self._films = db["film_stats"]
        self._ratings = ratings

    @translate_errors
    async def create(self, *, user_id: str, film_id: UUID, review: ReviewIn) -> Review:
        now = datetime.now(UTC)
        film = str(film_id)

        async def work(session: AsyncClientSession) -> Document:
            withheld = await self._withheld.find_one(
                {"film_id": film, "user_id": user_id}, projection={"status": True}, session=session
            )
            if withheld is not None:
                raise AlreadyExists(
                    f"Your review of this film is {withheld['status']} by moderation; "
                    "there is one review per viewer and film."
                )
            doc = review_document(
                film=film,
                user_id=user_id,
                text=review.text,
                spoiler=review.spoiler,
                author_score=await self._ratings.score_of(film_id=film, user_id=user_id),
                now=now,
            )
            await self._reviews.insert_one(doc, session=session)
            await self._films.update_one(
                {"_id": film}, {"$inc": {"reviews": 1}}, upsert=True, session=session
            )
            return doc

        try:
            return shown(await self._in_turn(f"film:{film}", work))
        except DuplicateKeyError:
            raise AlreadyExists(
                "You have reviewed this film already; edit that review instead."
            ) from None

    @translate_errors
    async def get(self, review_id: str) -> Review:
        return shown(await self._find(review_id))

    @translate_errors
    async def find(self, review_id: str) -> Review:
        """The review whatever its status: listed, or withheld by moderation."""
        oid = ObjectId(review_id)
        doc = await self._reviews.find_one({"_id": oid}) or await self._withheld.find_one(
            {"_id": oid}
        )
        if doc is None:
            raise NotFound("No review has this id.")
        return shown(doc)

    @translate_errors
    async def set_viewings(self, found: Sequence[tuple[str, AuthorViewing, bool]]) -> None:
        """Each review's author viewing and verified mark, as just read. Neither is a
        counter, so they are set outright, listed or withheld alike."""
        for review_id, viewing, verified in found:
            change = {
                "$set": {
                    "author_viewing": viewing.model_dump(),
                    "verified": verified,
                    "viewing_checked_at": viewing.as_of,
                }
            }
            oid = ObjectId(review_id)
            done = await self._reviews.update_one({"_id": oid}, change)
            if done.matched_count == 0:
                await self._withheld.update_one({"_id": oid}, change)

    @translate_errors
    async def stale(self, *, checked_before: datetime, limit: int) -> list[Review]:
        """Listed reviews whose viewing figures are the oldest, read before then."""
        found = self._reviews.find({"viewing_checked_at": {"$lt": checked_before}})
        return [shown(doc) for doc in await found.sort(_STALEST).limit(limit).to_list()]

    @translate_errors
    async def update(self, *, review_id: str, patch: ReviewPatch) -> Review:
        changes: dict[str, Any] = patch.model_dump(exclude_none=True)
        changes["updated_at"] = datetime.now(UTC)
        changed = await self._reviews.update_one({"_id": ObjectId(review_id)}, {"$set": changes})
        if changed.matched_count == 0:
            raise NotFound("No review has this id.")
        return shown(await self._find(review_id))

    @translate_errors
    async def delete(self, *, review_id: str, film_id: UUID) -> None:
        oid, film = ObjectId(review_id), str(film_id)

        async def work(session: AsyncClientSession) -> None:
            gone = await self._reviews.delete_one({"_id": oid}, session=session)
            if gone.deleted_count == 1:  # a listed review counts in its film's total
                await self._films.update_one(
                    {"_id": film}, {"$inc": {"reviews": -1}}, session=session
                )
            elif (
                await self._withheld.delete_one({"_id": oid}, session=session)
            ).deleted_count == 0:
                raise NotFound("No review has this id.")
            await self._votes.delete_many({"review_id": oid}, session=session)
            await self._reports.delete_many({"review_id": oid}, session=session)

        await self._in_turn(f"film:{film}", work)

    @translate_errors
    async def vote(self, *, review_id: str, user_id: str, value: VoteValue | None) -> VoteResult:
        """Set (like/dislike) or, with None, withdraw the user's vote."""
        oid = ObjectId(review_id)
        after = points(value)

        # update_one and find_one rather than findAndModify: the local server scans the
        # collection for a findAndModify by _id (190 ms at 20,000 reviews, 3 ms this way).
        async def work(session: AsyncClientSession) -> Document | None:
            key = {"review_id": oid, "user_id": user_id}
            before = await self._votes.find_one(key, projection={"value": True}, session=session)
            if after:
                await self._votes.update_one(
                    key, {"$set": {"value": after}}, upsert=True, session=session
                )
            elif before:
                await self._votes.delete_one(key, session=session)
            move = vote_move(before["value"] if before else 0, after)
            by_id = {"_id": oid}
            review = await self._reviews.find_one(by_id, projection=_COUNTS, session=session)
            if review is None:  # none, or withheld by moderation: not to be voted on
                raise NotFound("No review has this id.")
            counts = {
                "likes": review["likes"] + move.likes,
                "dislikes": review["dislikes"] + move.dislikes,
                "score": review["score"] + move.score,
            }
            change = {"likes": move.likes, "dislikes": move.dislikes, "score": move.score}
            helpful = helpfulness(counts["likes"], counts["dislikes"])
            await self._reviews.update_one(
                by_id, {"$inc": change, "$set": {"helpfulness": helpful}}, session=session
            )
            return counts

        # Votes on one review take turns: at once, their transactions would conflict.
        review = await self._in_turn(f"review:{review_id}", work)
        assert review is not None
        return VoteResult(
            review_id=review_id,
            likes=review["likes"],
            dislikes=review["dislikes"],
            score=review["score"],
            my_vote=value,
        )

    async def _find(self, review_id: str) -> Document:
        doc = await self._reviews.find_one({"_id": ObjectId(review_id)})
        if doc is None:
            raise NotFound("No review has this id.")
        return doc


def review_document(
    *, film: str, user_id: str, text: str, spoiler: bool, author_score: int | None, now: datetime
) -> Document:
    """A new review as stored: no votes yet, the author's rating beside it, the
    author's viewing not read yet."""
    return {
        "_id": ObjectId(),
        "film_id": film,
        "user_id": user_id,
        "text": text,
        "spoiler": spoiler,
        "likes": 0,
        "dislikes": 0,
        "score": 0,
        "helpfulness": 0.0,
        "author_score": author_score,
        "author_viewing": None,
        "verified": False,
        "viewing_checked_at": NEVER,
        "created_at": now,
        "updated_at": now,
    }


def shown(doc: Document) -> Review:
    """A review as the API shows it."""
    return Review(
        id=str(doc["_id"]),
        film_id=UUID(doc["film_id"]),
        author_id=doc["user_id"],
        text=doc["text"],
        spoiler=doc["spoiler"],
        likes=doc["likes"],
        dislikes=doc["dislikes"],
        score=doc["score"],
        helpfulness=doc.get("helpfulness", 0.0),
        author_score=doc.get("author_score"),
        author_viewing=AuthorViewing(**viewing) if (viewing := doc.get("author_viewing")) else None,
        verified=doc.get("verified", False),
        status=doc.get("status", ReviewStatus.visible),
        removal_reason=doc.get("removal_reason"),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
    )
