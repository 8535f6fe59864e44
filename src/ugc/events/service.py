"""Accepting validated events: stamp them, encode them, wait for the broker.

The events of one request share a Kafka record, one JSON object a line (as
Snowplow's collector writes a request's payload): the user, the key and the
headers are the same for all of them, and a record carries far less overhead
through the producer, the broker and the loader than an event each would.
A record stays under `MAX_RECORD_BYTES`; a bigger request takes several.
"""

from __future__ import annotations

from collections.abc import Sequence

from ugc.events.contract import SCHEMA_VERSION, Arrival, Event
from ugc.events.publisher import EventPublisher, PublishUnavailable
from ugc.problems import Problem

MAX_RECORD_BYTES = 256 * 1024

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
