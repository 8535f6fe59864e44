"""Accepting a request's validated events: stamp them into records, publish them,
and count them once their fate is known.

Every route that takes events (POST /api/v1/events and the prototype's endpoint)
goes through `EventAcceptor.accept`, so they all answer and count the same way. Stamping happens
before the wait for the broker so that a request can let go of its parsed body
and events while it waits: at a few dozen requests in flight, holding hundreds
of small objects each across the broker's round trip made every allocation
slower.
"""

from __future__ import annotations

import functools
import operator
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ugc.errors import OverQuota
from ugc.events.contract import SCHEMA_VERSION, Event
from ugc.events.errors import NoValidEvent
from ugc.events.publisher import EventPublisher
from ugc.events.records import Arrival, pack_lines
from ugc.events.suppressions import Suppressions
from ugc.events.validation import ValidatedEvents
from ugc.observability.metrics import EVENTS_ACCEPTED, EVENTS_REJECTED
from ugc.web.quota import TokenBuckets

_FIXED_HEADERS = (
    ("ugc-schema", str(SCHEMA_VERSION).encode()),
    ("content-type", b"application/x-ndjson"),
)


@dataclass(slots=True)  # not frozen: one is made per request, and frozen costs 4x
class Outgoing:
    """A request's events as Kafka records: one key (the user), shared headers."""

    key: bytes
    values: list[bytes]
    headers: tuple[tuple[str, bytes], ...]


def stamp(events: Sequence[Event], *, user_id: str, request_id: str | None) -> Outgoing:
    """The records of a request's events, stamped with what the server knows."""
    arrival = Arrival.now(user_id)
    headers: tuple[tuple[str, bytes], ...] = _FIXED_HEADERS
    if request_id:
        headers = (*_FIXED_HEADERS, ("x-request-id", request_id.encode()))
    return Outgoing(user_id.encode(), pack_lines(arrival.records(events)), headers)


@dataclass(slots=True)  # not frozen: one is made per request, and frozen costs 4x
class Tally:
    """What a request adds to the event counters, once its fate is known."""

    accepted: int
    rejected: int
    by_type: tuple[tuple[str, int], ...]
    by_reason: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, checked: ValidatedEvents) -> Tally:
        events = checked.events
        kinds = set(map(_TYPE, events))
        if len(kinds) == 1:  # a player's batch is mostly one session's progress beats
            by_type: tuple[tuple[str, int], ...] = ((kinds.pop(), len(events)),)
        else:
            by_type = tuple(Counter(map(_TYPE, events)).items())
        if not checked.rejections:
            return cls(len(events), 0, by_type, ())
        by_reason = tuple(Counter(r.kind for r in checked.rejections).items())
        return cls(len(events), checked.rejected_count, by_type, by_reason)

    def count(self) -> None:
        for kind, number in self.by_type:
            _accepted(kind).inc(number)
        for reason, number in self.by_reason:
            EVENTS_REJECTED.labels(reason).inc(number)


_TYPE = operator.itemgetter("type")


@functools.cache  # `labels()` takes a lock on every call; event types are a fixed few
def _accepted(kind: str) -> Any:
    return EVENTS_ACCEPTED.labels(kind)


@dataclass(slots=True)
class EventAcceptor:
    """What every route that takes events goes through: the user's quota, then the
    broker."""

    publisher: EventPublisher
    quota: TokenBuckets
    suppressions: Suppressions | None = None

    def admit(self, user_id: str) -> None:
        """`AccountErased` when the user was erased: checked as soon as the caller is known."""
        if self.suppressions is not None:
            self.suppressions.check(user_id)

    async def accept(
        self, checked: ValidatedEvents, *, user_id: str, request_id: str | None
    ) -> Tally:
        """Publish the valid events of a request and count them, or raise:
        `AccountErased` for an erased user, `NoValidEvent`, `OverQuota` past the
        user's quota, `PublishUnavailable` when the broker did not take them (then
        nothing is counted: the client retries).

        The events are let go of once stamped; the rejections stay for the answer.
        """
        self.admit(user_id)
        tally = Tally.of(checked)
        if not checked.events:
            tally.count()
            raise NoValidEvent([r.as_dict() for r in checked.rejections])
        wait = self.quota.take(user_id, len(checked.events))
        if wait is not None:
            _OVER_QUOTA.inc(len(checked.events))
            raise OverQuota(wait, "events from this user")
        outgoing = stamp(checked.events, user_id=user_id, request_id=request_id)
        checked.events = []
        await self.publisher.publish(outgoing.key, outgoing.values, outgoing.headers)
        tally.count()
        return tally


_OVER_QUOTA = EVENTS_REJECTED.labels("quota")


@dataclass(frozen=True, slots=True)
class EventsState:
    """What the events API's framework routes read of their service."""

    acceptor: EventAcceptor
