"""Accepting validated events: stamp them, pack them into records, wait for the broker."""

from __future__ import annotations

from collections.abc import Sequence

from ugc.events.contract import SCHEMA_VERSION, Arrival, Event, pack_lines
from ugc.events.publisher import EventPublisher, PublishUnavailable
from ugc.problems import Problem

_FIXED_HEADERS = (
    ("ugc-schema", str(SCHEMA_VERSION).encode()),
    ("content-type", b"application/x-ndjson"),
)


async def accept_events(
    publisher: EventPublisher,
    events: Sequence[Event],
    *,
    user_id: str,
    request_id: str | None,
    retry_after_s: int,
) -> None:
    """Return once the broker has every event; 503 (nothing accepted) otherwise."""
    arrival = Arrival.now(user_id)
    headers: tuple[tuple[str, bytes], ...] = _FIXED_HEADERS
    if request_id:
        headers = (*_FIXED_HEADERS, ("x-request-id", request_id.encode()))
    values = pack_lines(arrival.records(events))
    try:
        await publisher.publish(user_id.encode(), values, headers)
    except PublishUnavailable:
        raise Problem(
            503,
            "The event broker did not confirm the events in time; nothing was accepted. "
            "Retry later with the same event_id values.",
            headers={"Retry-After": str(retry_after_s)},
        ) from None
