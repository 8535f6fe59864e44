"""Validated events as records: what the server adds, as the JSON lines of Kafka
record values and, field for field, rows of the ClickHouse events table.

Each record is joined from JSON fragments: orjson writes the validated event,
and the server's fields go in front of it, which costs far less than a dict per
event. The events of one request share a Kafka record (`pack_lines`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
import uuid_utils

from ugc.events.contract import SCHEMA_VERSION, Event, occurred_at


@dataclass(slots=True)  # not frozen: one is made per request, and frozen costs 4x
class Arrival:
    """Who sent a request's events and when they arrived; shared by all its events.

    `head` opens every record of the request with the fields the server adds.
    """

    user_id: str
    received_at: datetime
    head: bytes
    _second: bytes  # received_at up to the seconds, for occurred_at fractions
    _id_prefix: bytes  # a UUIDv7 made for the request, but for its last 3 hex digits

    @classmethod
    def now(cls, user_id: str) -> Arrival:
        return cls.at(user_id, datetime.now(UTC))

    @classmethod
    def at(cls, user_id: str, moment: datetime) -> Arrival:
        if moment.tzinfo is not UTC:
            moment = moment.astimezone(UTC)
        iso = _iso(moment)  # b'"YYYY-MM-DDTHH:MM:SS.ffffff+00:00"'
        head = b'{"schema_version":%d,"user_id":%b,"received_at":%b,"occurred_at":' % (
            SCHEMA_VERSION,
            orjson.dumps(user_id),
            iso,
        )
        made = str(uuid_utils.uuid7()).encode()
        return cls(user_id, moment, head, iso[1:20], made[:-3])

    def records(self, events: Sequence[Event], first: int = 0) -> list[bytes]:
        """The record of each event, in order: its fields plus what the server knows.

        `first` is the index of `events[0]` in its request. An event without a
        timestamp occurred when it arrived plus its index in microseconds: the
        events of a request are in the order the client sent them, so "the last
        position" is never a tie. Every record also carries `seq`, its index in the
        request, so that events sent with the same time keep the order they were
        sent in wherever "the last" one is picked. An event without an id gets the request's UUIDv7
        with its last 12 (random) bits replaced by the index, a counter as RFC 9562
        allows, so the ids of a request sort in the order sent; past 4,096 events,
        a fresh UUIDv7 each.

        Each record is joined from JSON fragments: orjson writes the validated
        event, and the server's fields go in front of it, which costs far less than
        a dict per event. The loop is the intake's innermost one, so the common
        cases (the same second, the counter) are written out.
        """
        head, prefix, dumps, received = self.head, self._id_prefix, orjson.dumps, self.received_at
        second = b'"%b.' % self._second
        micros = received.microsecond
        out = []
        for index, event in enumerate(events, first):
            if event.get("timestamp") is not None:
                when = _iso(occurred_at(event, received))
            elif micros + index < 1_000_000:  # only the fraction changes
                thousands, units = divmod(micros + index, 1000)
                when = b"".join((second, _DEC3[thousands], _DEC3[units], b'+00:00"'))
            else:
                when = _iso(received + timedelta(microseconds=index))
            seq = _SEQ[index] if index < _COUNTER_LIMIT else b"%d" % index
            if event.get("event_id") is not None:
                out.append(b"".join((head, when, b',"seq":', seq, b",", dumps(event)[1:])))
                continue
            if "event_id" in event:  # sent as null: the server's id replaces it
                fields = dumps({k: v for k, v in event.items() if k != "event_id"})
            else:
                fields = dumps(event)
            if index < _COUNTER_LIMIT:
                made = prefix + _HEX3[index]
            else:
                made = str(uuid_utils.uuid7()).encode()
            out.append(
                b"".join((head, when, b',"seq":', seq, b',"event_id":"', made, b'",', fields[1:]))
            )
        return out


_COUNTER_LIMIT = 4096
_HEX3 = tuple(b"%03x" % n for n in range(_COUNTER_LIMIT))
_SEQ = tuple(b"%d" % n for n in range(_COUNTER_LIMIT))
_DEC3 = tuple(b"%03d" % n for n in range(1000))


def _iso(moment: datetime) -> bytes:
    """A JSON string of the time in UTC, always with microseconds.

    orjson writes it ten times faster than isoformat does, but leaves out a
    fraction of zero.
    """
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    if moment.microsecond:
        return orjson.dumps(moment)  # b'"YYYY-MM-DDTHH:MM:SS.ffffff+00:00"'
    return b'%b.000000+00:00"' % orjson.dumps(moment)[:-7]


MAX_RECORD_BYTES = 256 * 1024


def pack_lines(lines: Sequence[bytes], limit: int = MAX_RECORD_BYTES) -> list[bytes]:
    """JSON lines joined into as few record values as keep each under `limit` bytes."""
    if sum(map(len, lines)) + len(lines) <= limit:
        return [b"\n".join(lines)]
    values: list[bytes] = []
    chunk: list[bytes] = []
    size = 0
    for line in lines:
        if chunk and size + len(line) + 1 > limit:
            values.append(b"\n".join(chunk))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    values.append(b"\n".join(chunk))
    return values
