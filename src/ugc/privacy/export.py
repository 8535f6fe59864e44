"""Everything held about one person, as NDJSON: a record a line, streamed.

Lines come kind by kind: the content (ratings, reviews, votes, bookmarks,
reports) from MongoDB by cursor, then the events and the films hidden from
Continue Watching from ClickHouse, a page at a time by the `by_user`
projection, so a viewer with millions of events costs one page of memory. The
last line is a summary: counts per kind, and whether the export is complete (a
warehouse that stops answering midway ends it with `complete: false` and what
is missing, never with a cut-off stream that looks whole).
"""

from __future__ import annotations

import logging
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson

from ugc.content.store.personal import MongoPersonalData
from ugc.warehouse.sink import EventSink, SinkError

log = logging.getLogger(__name__)

PAGE = 2_000
_EVENTS = (
    "SELECT * EXCEPT (loaded_at) FROM {db}.events WHERE user_id = {{user:String}} {after}"
    "ORDER BY film_id, occurred_at, event_id LIMIT {page}"
)
_AFTER = (  # put into _EVENTS as it is: its braces are ClickHouse's parameters
    "AND (film_id, occurred_at, event_id) > ({film:UUID}, {at:DateTime64(6, 'UTC')}, {event:UUID}) "
)


class Export:
    def __init__(self, personal: MongoPersonalData, sink: EventSink | None, database: str) -> None:
        self._personal = personal
        self._sink = sink
        self._db = database

    async def lines(self, user_id: str) -> AsyncIterator[bytes]:
        counts: Counter[str] = Counter()
        missing: list[str] = []
        async for kind, doc in self._personal.records(user_id):
            counts[kind] += 1
            yield _line(kind, doc)
        try:
            async for kind, row in self._warehouse_rows(user_id):
                counts[kind] += 1
                yield _line(kind, row)
        except SinkError as exc:
            log.warning("export of %s cut short, the warehouse did not answer: %s", user_id, exc)
            missing = ["event", "hidden_row"]
        summary = {
            "user_id": user_id,
            "exported_at": datetime.now(UTC),
            "counts": dict(counts),
            "complete": not missing and self._sink is not None,
            "missing": missing if self._sink is not None else ["event", "hidden_row"],
        }
        yield _line("summary", summary)

    async def _warehouse_rows(self, user_id: str) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        if self._sink is None:
            return
        sink, db = self._sink, self._db
        params: dict[str, Any] = {"user": user_id}
        last_id = None
        while True:
            after = _AFTER if "film" in params else ""
            rows = await sink.query(_EVENTS.format(db=db, after=after, page=PAGE), params)
            for row in rows:
                if row["event_id"] != last_id:  # a replay not collapsed yet is one event
                    yield "event", row
                last_id = row["event_id"]
            if len(rows) < PAGE:
                break
            end = rows[-1]
            params = {"user": user_id, "film": end["film_id"], "at": end["occurred_at"],
                      "event": end["event_id"]}  # fmt: skip
        hidden = await sink.query(
            f"SELECT film_id, hidden_at FROM {db}.continue_watching_hidden FINAL "  # noqa: S608
            "WHERE user_id = {user:String} ORDER BY film_id",
            {"user": user_id},
        )
        for row in hidden:
            yield "hidden_row", row


def _line(kind: str, fields: dict[str, Any]) -> bytes:
    return orjson.dumps({"kind": kind, **fields}, default=str) + b"\n"


async def chunked(lines: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Lines gathered into writes of about 64 KiB."""
    pending: list[bytes] = []
    size = 0
    async for line in lines:
        pending.append(line)
        size += len(line)
        if size >= 64 * 1024:
            yield b"".join(pending)
            pending, size = [], 0
    yield b"".join(pending)


async def gzipped(lines: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The same stream, gzip-compressed as it goes."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    async for chunk in chunked(lines):
        yield packer.compress(chunk)
    yield packer.flush()
