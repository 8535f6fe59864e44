"""Reports on reviews and moderators' decisions, in MongoDB.

A listed review lives in `reviews`; one hidden (reported by enough viewers) or
removed (by a moderator) moves to `reviews_withheld`, so every list and count of
reviews leaves it out without a filter of its own, and moves back when restored.
Each move changes its film's review count in the same transaction, and takes the
review's turn, as votes do, so counts stay exact while people vote and report.

A review carries its open reports as counters (`open_reports`, by reason), moved
in the transaction that stores the report; one report per user and review (a
unique index), a repeat changes its reason. The moderation queues are ordered by
`queue`, "<when>|<id>", so that a page is one range on one index.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from ugc.content.errors import NotFound, NotYours
from ugc.content.models import (
    ModeratedReview,
    ModerationAction,
    ModerationStatus,
    Report,
    ReportIn,
    Review,
    ReviewStatus,
)
from ugc.content.store import keyset
from ugc.content.store.abandoned import AbandonedTransactions
from ugc.content.store.mongo import Document, MongoStore, translate_errors
from ugc.content.store.reviews import WITHHELD, shown
from ugc.content.store.turns import Turns
from ugc.web import cursor
from ugc.web.cursor import Page

_OPEN = {"open_reports": 0, "report_reasons": {}}


class MongoModeration(MongoStore):
    def __init__(
        self,
        client: AsyncMongoClient[Document],
        db: AsyncDatabase[Document],
        turns: Turns[str],
        abandoned: AbandonedTransactions | None = None,
        *,
        hide_after: int,
    ) -> None:
        super().__init__(client, db, turns, abandoned)
        self._reviews = db["reviews"]
        self._withheld = db[WITHHELD]
        self._reports = db["review_reports"]
        self._actions = db[AUDIT_LOG]
        self._films = db["film_stats"]
        self._hide_after = hide_after

    @translate_errors
    async def report(self, *, review_id: str, user_id: str, report: ReportIn) -> Report:
        """Report a listed review, or change one's report of it; the review is hidden
        when this report makes `hide_after` open ones."""
        oid, now = ObjectId(review_id), datetime.now(UTC)

        async def work(session: AsyncClientSession) -> Document:
            review = await self._reviews.find_one({"_id": oid}, session=session)
            if review is None:
                raise NotFound("No review has this id.")
            if review["user_id"] == user_id:
                raise NotYours("You cannot report your own review.")
            key = {"review_id": oid, "user_id": user_id}
            before = await self._reports.find_one(key, session=session)
            fields = {"reason": report.reason.value, "text": report.text, "updated_at": now}
            change: dict[str, Any] = {}
            if before is None:
                stored = {**key, **fields, "open": True, "created_at": now}
                await self._reports.insert_one(stored, session=session)
                change = {"$inc": {"open_reports": 1, f"report_reasons.{report.reason}": 1}}
                if not review.get("queue"):
                    change["$set"] = {"queue": _queue_key(now, oid)}
            else:
                await self._reports.update_one(key, {"$set": fields}, session=session)
                stored = {**before, **fields}
                if before["open"] and before["reason"] != report.reason:
                    moved = {f"report_reasons.{before['reason']}": -1}
                    change = {"$inc": moved | {f"report_reasons.{report.reason}": 1}}
            if change:
                await self._reviews.update_one({"_id": oid}, change, session=session)
            opened = review.get("open_reports", 0) + (before is None)
            if opened >= self._hide_after:
                await self._withhold(oid, ReviewStatus.hidden, None, now, session)
            return stored

        stored = await self._in_turn(f"review:{review_id}", work)
        return Report(
            review_id=review_id,
            reason=stored["reason"],
            text=stored["text"],
            open=stored["open"],
            created_at=stored["created_at"],
            updated_at=stored["updated_at"],
        )

    @translate_errors
    async def restore(self, *, review_id: str, moderator_id: str) -> Review:
        """Listed again (or kept listed), its reports closed: the same reports never
        hide it again."""
        oid, now = ObjectId(review_id), datetime.now(UTC)

        async def work(session: AsyncClientSession) -> Document:
            doc = await self._withheld.find_one({"_id": oid}, session=session)
            if doc is not None:
                listed = {k: v for k, v in doc.items() if k not in _WITHHELD_FIELDS} | _OPEN
                await self._reviews.insert_one(listed, session=session)
                await self._withheld.delete_one({"_id": oid}, session=session)
                film = {"_id": doc["film_id"]}
                await self._films.update_one(film, {"$inc": {"reviews": 1}}, session=session)
            else:
                doc = await self._reviews.find_one({"_id": oid}, session=session)
                if doc is None:
                    raise NotFound("No review has this id.")
                closed = {"$set": _OPEN, "$unset": {"queue": ""}}
                await self._reviews.update_one({"_id": oid}, closed, session=session)
                listed = {**doc, **_OPEN}
            await self._close_reports(oid, session)
            await self._record(session, oid, moderator_id, "restore", None, now)
            return listed

        return shown(await self._in_turn(f"review:{review_id}", work))

    @translate_errors
    async def remove(self, *, review_id: str, moderator_id: str, reason: str) -> Review:
        """Out of every list and count; its author sees it removed, and why."""
        oid, now = ObjectId(review_id), datetime.now(UTC)

        async def work(session: AsyncClientSession) -> Document:
            doc = await self._withhold(oid, ReviewStatus.removed, reason, now, session)
            await self._withheld.update_one({"_id": oid}, {"$set": _OPEN}, session=session)
            await self._close_reports(oid, session)
            await self._record(session, oid, moderator_id, "remove", reason, now)
            return doc | _OPEN

        return shown(await self._in_turn(f"review:{review_id}", work))

    async def _withhold(
        self,
        oid: ObjectId,
        status: ReviewStatus,
        reason: str | None,
        now: datetime,
        session: AsyncClientSession,
    ) -> Document:
        """Move a listed review to the withheld ones (its film's count with it), or
        change the status of a withheld one."""
        marks = {"status": status.value, "removal_reason": reason, "withheld_at": now}
        doc = await self._reviews.find_one({"_id": oid}, session=session)
        if doc is not None:
            doc |= marks | {"queue": doc.get("queue") or _queue_key(now, oid)}
            await self._withheld.insert_one(doc, session=session)
            await self._reviews.delete_one({"_id": oid}, session=session)
            film = {"_id": doc["film_id"]}
            await self._films.update_one(film, {"$inc": {"reviews": -1}}, session=session)
            return doc
        doc = await self._withheld.find_one({"_id": oid}, session=session)
        if doc is None:
            raise NotFound("No review has this id.")
        await self._withheld.update_one({"_id": oid}, {"$set": marks}, session=session)
        return doc | marks

    async def _close_reports(self, oid: ObjectId, session: AsyncClientSession) -> None:
        query = {"review_id": oid, "open": True}
        await self._reports.update_many(query, {"$set": {"open": False}}, session=session)

    async def _record(
        self,
        session: AsyncClientSession,
        oid: ObjectId,
        moderator_id: str,
        action: str,
        reason: str | None,
        now: datetime,
    ) -> None:
        """Who did what to which review, when and why: kept for good."""
        entry = {"kind": _MODERATION, "review_id": oid, "moderator_id": moderator_id}
        entry["action"] = action
        await self._actions.insert_one(entry | {"reason": reason, "at": now}, session=session)

    @translate_errors
    async def queue(
        self, *, status: ModerationStatus, limit: int, after: str | None
    ) -> Page[ModeratedReview]:
        """Reviews with open reports (`reported`), hidden or removed, the oldest
        reported (or removed) first."""
        query: Document = {"queue": {"$gt": ""}}
        collection = self._reviews
        if status is not ModerationStatus.reported:
            collection, query = self._withheld, {"status": status.value} | query
        total = await collection.count_documents(query)
        if after is not None:
            (position,) = cursor.decode(after, kinds=(str,))
            query = query | {"queue": {"$gt": position}}
        found = await collection.find(query).sort([("queue", 1)]).limit(limit + 1).to_list()
        items = [
            ModeratedReview(
                review=shown(doc),
                reports={k: v for k, v in doc.get("report_reasons", {}).items() if v},
                reported_at=_reported_at(doc),
            )
            for doc in found[:limit]
        ]
        more = cursor.encode([found[limit - 1]["queue"]]) if len(found) > limit else None
        return Page(items=items, total=total, next_cursor=more)

    @translate_errors
    async def actions(self, *, limit: int, after: str | None) -> Page[ModerationAction]:
        entries = {"kind": _MODERATION}
        docs, more = await keyset.page(self._actions, entries, limit=limit, after=after)
        return Page(
            items=[
                ModerationAction(
                    id=str(doc["_id"]),
                    review_id=str(doc["review_id"]),
                    moderator_id=doc["moderator_id"],
                    action=doc["action"],
                    reason=doc["reason"],
                    at=doc["at"],
                )
                for doc in docs
            ],
            total=await self._actions.count_documents(entries),
            next_cursor=more,
        )


# Who did what, kept for good; each kind of entry (moderators' actions here) is
# one equality on the log's index, paged by _id.
AUDIT_LOG = "audit_log"
_MODERATION = "moderation"
_WITHHELD_FIELDS = {"status", "removal_reason", "withheld_at", "queue"}


def _queue_key(moment: datetime, oid: ObjectId) -> str:
    return f"{moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%f')}|{oid}"


def _reported_at(doc: Document) -> datetime | None:
    if not doc.get("open_reports"):
        return None
    when, _, _ = str(doc.get("queue", "")).partition("|")
    return datetime.fromisoformat(when).replace(tzinfo=UTC) if when else None
