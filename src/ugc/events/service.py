"""Accepting a request's validated events: stamp them into records, publish them,
and count them once their fate is known.

Every route that takes events (the intake and the prototype's endpoint) goes
through `accept`, so they all answer and count the same way. Stamping happens
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

from ugc.events.contract import SCHEMA_VERSION, Event
from ugc.events.intake import Intake
from ugc.events.publisher import EventPublisher
from ugc.events.records import Arrival, pack_lines
from ugc.observability.metrics import EVENTS_ACCEPTED, EVENTS_REJECTED
from ugc.problems import Problem
from ugc.web.quota import TokenBuckets, too_many

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
    def of(cls, intake: Intake) -> Tally:
        events = intake.events
        kinds = set(map(_TYPE, events))
        if len(kinds) == 1:  # a player's batch is mostly one session's progress beats
            by_type: tuple[tuple[str, int], ...] = ((kinds.pop(), len(events)),)
        else:
            by_type = tuple(Counter(map(_TYPE, events)).items())
        if not intake.rejections:
            return cls(len(events), 0, by_type, ())
        by_reason = tuple(Counter(r.kind for r in intake.rejections).items())
        return cls(len(events), intake.rejected_count, by_type, by_reason)

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
class IntakeService:
    """What every route that takes events goes through: the user's quota, then the
    broker."""

    publisher: EventPublisher
    quota: TokenBuckets

    async def accept(self, intake: Intake, *, user_id: str, request_id: str | None) -> Tally:
        """Publish the valid events of a request and count them, or raise: 422 when
        none is valid, 429 past the user's quota, `PublishUnavailable` when the broker
        did not take them (then nothing is counted: the client retries).

        The intake's events are let go of once stamped; the rejections stay for the
        answer.
        """
        tally = Tally.of(intake)
        if not intake.events:
            tally.count()
            errors = [r.as_dict() for r in intake.rejections]
            raise Problem(422, "No event in the request is valid; see `errors`.", errors=errors)
        wait = self.quota.take(user_id, len(intake.events))
        if wait is not None:
            _OVER_QUOTA.inc(len(intake.events))
            raise too_many(wait, "events from this user")
        outgoing = stamp(intake.events, user_id=user_id, request_id=request_id)
        intake.events = []
        await self.publisher.publish(outgoing.key, outgoing.values, outgoing.headers)
        tally.count()
        return tally


_OVER_QUOTA = EVENTS_REJECTED.labels("quota")
