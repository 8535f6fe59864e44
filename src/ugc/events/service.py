"""Accepting validated events: stamp them into records, then wait for the broker.

The two steps are apart so that a request can let go of its parsed body and
events before it waits: at a few dozen requests in flight, holding hundreds of
small objects each across the broker's round trip made every allocation slower.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ugc.events.contract import SCHEMA_VERSION, Arrival, Event, pack_lines
from ugc.events.publisher import EventPublisher, PublishUnavailable
from ugc.problems import Problem

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


def unavailable(retry_after_s: int) -> Problem:
    """The answer when the broker did not take a request's events."""
    return Problem(
        503,
        "The event broker did not confirm the events in time; nothing was accepted. "
        "Retry later with the same event_id values.",
        headers={"Retry-After": str(retry_after_s)},
    )


async def accept_events(
    publisher: EventPublisher,
    events: Sequence[Event],
    *,
    user_id: str,
    request_id: str | None,
    retry_after_s: int,
) -> None:
    """Stamp and publish: return once the broker has every event, or 503."""
    outgoing = stamp(events, user_id=user_id, request_id=request_id)
    try:
        await publisher.publish(outgoing.key, outgoing.values, outgoing.headers)
    except PublishUnavailable:
        raise unavailable(retry_after_s) from None
