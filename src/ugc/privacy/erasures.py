"""Erasure requests: recorded in MongoDB, carried out step by step, receipted.

A request is one document in `erasures` (one per user: asking again answers the
same request). A worker moves every pending one through its steps, each of
which is safe to run again, and records each step as it ends, so a process that
dies at any point finishes the request when it (or another) starts:

1. *suppress*: the user id goes to the suppressions topic. From then on the
   events intake refuses the user's tokens and the loader drops their records.
2. *content*: the user's documents are counted, the counts recorded, and the
   documents removed with every counter they moved (`MongoPersonalData`).
3. *warehouse*: the loader removes the user's rows between its inserts and
   records a receipt in the warehouse (`erased_viewers`), read back here.

The request and its end are written to the audit log (who asked, when, the
receipt), never the erased content.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ugc.content.errors import NotFound
from ugc.content.store.accounts import ERASURES
from ugc.content.store.moderation import AUDIT_LOG
from ugc.content.store.mongo import Document, store_errors
from ugc.content.store.personal import MongoPersonalData
from ugc.events.suppressions import Suppression, suppress
from ugc.observability.metrics import ERASURE_OLDEST_PENDING
from ugc.privacy.models import Erasure, ErasureState, StoreReceipt
from ugc.settings import KafkaSettings
from ugc.warehouse.erasure import WarehouseErasure
from ugc.warehouse.sink import SinkError

log = logging.getLogger(__name__)

WORK_EVERY_S = 1.0


class Erasures:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        personal: MongoPersonalData,
        kafka: KafkaSettings,
        warehouse: WarehouseErasure,
        *,
        client_id: str,
    ) -> None:
        self._erasures = db[ERASURES]
        self._audit = db[AUDIT_LOG]
        self._personal = personal
        self._kafka = kafka
        self._warehouse = warehouse
        self._client_id = client_id
        self._wake = asyncio.Event()

    async def request(self, *, user_id: str, requested_by: str) -> Erasure:
        """The user's erasure: made now, or the one asked for before."""
        now = datetime.now(UTC)
        doc: Document = {
            "_id": str(uuid.uuid4()),
            "user_id": user_id,
            "requested_by": requested_by,
            "requested_at": now,
            "state": ErasureState.pending.value,
            "stores": {},
        }
        with store_errors():
            try:
                await self._erasures.insert_one(doc)
            except DuplicateKeyError:
                found = await self._erasures.find_one({"user_id": user_id})
                if found is None:  # pragma: no cover - a unique key that vanished
                    raise
                return shown(found)
            await self._audit.insert_one(
                {
                    "kind": "erasure",
                    "erasure_id": doc["_id"],
                    "user_id": user_id,
                    "action": "requested",
                    "by": requested_by,
                    "at": now,
                }
            )
        self._wake.set()
        return shown(doc)

    async def get(self, erasure_id: str) -> Erasure:
        with store_errors():
            doc = await self._erasures.find_one({"_id": erasure_id})
        if doc is None:
            raise NotFound("No erasure has this id.")
        if doc["state"] == ErasureState.done and not _physical(doc):
            doc = await self._note_physical(doc)
        return shown(doc)

    async def run(self) -> None:
        """Move every pending erasure on, now and whenever asked or a second passed."""
        while True:
            self._wake.clear()
            try:
                with store_errors():
                    pending = (
                        await self._erasures.find({"state": ErasureState.pending.value})
                        .sort("requested_at", ASCENDING)
                        .to_list(100)
                    )
                oldest = pending[0]["requested_at"] if pending else None
                age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
                ERASURE_OLDEST_PENDING.set(age)
                for doc in pending:
                    await self.advance(doc)
            except Exception:  # the worker must outlive any failure
                log.warning("erasures not moved on; trying again", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), WORK_EVERY_S)

    async def advance(self, doc: Document) -> None:
        """Every step of the erasure that can be done now, each recorded as it ends."""
        erasure_id, user_id = doc["_id"], doc["user_id"]
        if not doc.get("suppressed_at"):
            when = datetime.now(UTC)
            await suppress(
                self._kafka, Suppression(user_id, erasure_id, when), client_id=self._client_id
            )
            doc = await self._set(erasure_id, {"suppressed_at": when})
        if "content" not in doc["stores"]:
            planned = doc.get("content_planned")
            if planned is None:
                planned = await self._personal.count(user_id)
                doc = await self._set(erasure_id, {"content_planned": planned})
            await self._personal.erase(user_id)
            receipt = {"removed": planned, "at": datetime.now(UTC)}
            doc = await self._set(erasure_id, {"stores.content": receipt})
        if "warehouse" not in doc["stores"]:
            try:
                row = await self._warehouse.receipt_of(user_id)
            except SinkError as exc:
                log.info("erasure %s waits for the warehouse: %s", erasure_id, exc)
                row = None
            if row is None or not row["masked_at"]:
                await self._set(erasure_id, {"waiting_for": "the loader (warehouse rows)"})
                return
            receipt = {
                "removed": orjson.loads(row["receipt"]),
                "at": _utc(row["masked_at"]),
                "physical_at": _utc(row["physical_at"]) if row["physical_at"] else None,
            }
            doc = await self._set(erasure_id, {"stores.warehouse": receipt})
        # A write that passed the content API's check just before the request, and
        # landed after the content step, is swept up here.
        leftover = await self._personal.count(user_id)
        if any(leftover.values()):
            await self._personal.erase(user_id)
            removed = doc["stores"]["content"]["removed"]
            summed = {kind: removed.get(kind, 0) + leftover.get(kind, 0) for kind in leftover}
            doc = await self._set(erasure_id, {"stores.content.removed": summed})
        now = datetime.now(UTC)
        done = {"state": ErasureState.done.value, "done_at": now, "waiting_for": None}
        doc = await self._set(erasure_id, done)
        with store_errors():
            await self._audit.insert_one(
                {
                    "kind": "erasure",
                    "erasure_id": erasure_id,
                    "user_id": user_id,
                    "action": "done",
                    "at": now,
                    "receipt": {name: r["removed"] for name, r in doc["stores"].items()},
                }
            )
        log.info("erasure %s done", erasure_id)

    async def _note_physical(self, doc: Document) -> Document:
        try:
            row = await self._warehouse.receipt_of(doc["user_id"])
        except SinkError:
            return doc
        if row is None or not row["physical_at"]:
            return doc
        return await self._set(
            doc["_id"], {"stores.warehouse.physical_at": _utc(row["physical_at"])}
        )

    async def _set(self, erasure_id: str, fields: dict[str, Any]) -> Document:
        with store_errors():
            doc = await self._erasures.find_one_and_update(
                {"_id": erasure_id}, {"$set": fields}, return_document=True
            )
        assert doc is not None
        return doc


def _physical(doc: Document) -> bool:
    return bool(doc["stores"].get("warehouse", {}).get("physical_at"))


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def shown(doc: Document) -> Erasure:
    return Erasure(
        id=doc["_id"],
        user_id=doc["user_id"],
        state=doc["state"],
        requested_at=doc["requested_at"],
        suppressed_at=doc.get("suppressed_at"),
        stores={name: StoreReceipt(**receipt) for name, receipt in doc["stores"].items()},
        done_at=doc.get("done_at"),
        waiting_for=doc.get("waiting_for"),
    )
