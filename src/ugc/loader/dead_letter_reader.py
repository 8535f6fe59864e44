"""Dead letters you can act on: what each says (reason, source, request id),
which ones to send back through the loader, and a copy to keep past the topic's
retention (`ugc dead-letters list|replay|export`).

A replayed row goes back to the events topic as it was refused, its event_id in
it: once the cause is fixed (a migration, a bug), the loader inserts it like any
other, and replaying it again changes nothing, as the table keeps one row per
event id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from ugc.loader.dead_letter_writer import (
    REASON,
    REQUEST_ID,
    SOURCE_LINE,
    SOURCE_OFFSET,
    SOURCE_PARTITION,
    SOURCE_TOPIC,
)

REPLAY_OF = "ugc-replay-of"  # the dead letter a replayed record came from


@dataclass(frozen=True, slots=True)
class Letter:
    """One dead-lettered row and where it came from."""

    partition: int  # of the dead-letter topic
    offset: int
    written_at: datetime
    reason: str
    source: str  # topic:partition@offset#line of the row in the events topic
    request_id: str | None
    key: bytes | None
    value: bytes

    @classmethod
    def of(
        cls,
        *,
        partition: int,
        offset: int,
        timestamp_ms: int,
        key: bytes | None,
        value: bytes,
        headers: Sequence[tuple[str, bytes]],
    ) -> Letter:
        found = {name: data.decode(errors="replace") for name, data in headers}
        source = "{}:{}@{}#{}".format(
            *(
                found.get(h, "?")
                for h in (SOURCE_TOPIC, SOURCE_PARTITION, SOURCE_OFFSET, SOURCE_LINE)
            )
        )
        return cls(
            partition=partition,
            offset=offset,
            written_at=datetime.fromtimestamp(timestamp_ms / 1000, UTC),
            reason=found.get(REASON, ""),
            source=source,
            request_id=found.get(REQUEST_ID),
            key=key,
            value=value,
        )

    def exported(self) -> bytes:
        """The letter as one NDJSON line: where and when it was written, why, where
        its row came from, and the row itself as it was refused."""
        return orjson.dumps(
            {
                "written_at": self.written_at.isoformat(),
                "reason": self.reason,
                "source": self.source,
                "request_id": self.request_id,
                "partition": self.partition,
                "offset": self.offset,
                "key": None if self.key is None else self.key.decode(errors="replace"),
                "row": self.value.decode(errors="replace"),
            },
            option=orjson.OPT_APPEND_NEWLINE,
        )

    def replay_headers(self) -> list[tuple[str, bytes]]:
        headers = [
            ("ugc-schema", b"1"),
            ("content-type", b"application/x-ndjson"),
            (REPLAY_OF, f"{self.partition}@{self.offset}".encode()),
        ]
        if self.request_id:
            headers.append((REQUEST_ID, self.request_id.encode()))
        return headers


def chosen(
    letters: Iterable[Letter], *, reason: str | None = None, since: datetime | None = None
) -> list[Letter]:
    """The letters whose reason contains `reason` (case-insensitively) and that were
    written at `since` or later."""
    wanted = reason.lower() if reason else None
    return [
        letter
        for letter in letters
        if (wanted is None or wanted in letter.reason.lower())
        and (since is None or letter.written_at >= since)
    ]
