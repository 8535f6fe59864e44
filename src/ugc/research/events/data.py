"""The study's events: viewing sessions as players send them (as `make bench-etl`
makes them), the same rows for every store, generated again on demand.

Row n is beat n % 100 of session n // 100: a `play`, a beat every 30 s
(`view_progress`, a `pause` at beats 10, 30, ...), then `stop` or `end`. A
session's viewer, film (popular films more often) and start within the 30 days
before `REFERENCE` come from a generator seeded by the session number, so any
range of rows is the same whenever and wherever it is made.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson

REFERENCE = datetime(2026, 11, 30, tzinfo=UTC)  # the study's "now": the last day of data
DAYS = 30
BEATS = 100  # events per session
BEAT_S = 30
COLUMNS = (
    "event_id", "type", "user_id", "film_id", "schema_version",
    "occurred_at", "received_at", "position_sec", "duration_sec", "seq",
)  # fmt: skip
DURATION_S = 5400.0


@dataclass(frozen=True)
class World:
    """The viewers and films the sessions are drawn from."""

    seed: int
    users: list[str]
    films: list[uuid.UUID]

    @classmethod
    def for_rows(cls, rows: int, seed: int = 2026) -> World:
        """About 5 sessions a viewer and 20 a film, at most 5,000 films."""
        sessions = max(1, rows // BEATS)
        rng = random.Random(seed)
        users = [
            str(uuid.UUID(int=rng.getrandbits(128), version=4))
            for _ in range(max(10, sessions // 5))
        ]
        films = [
            uuid.UUID(int=rng.getrandbits(128), version=4)
            for _ in range(max(10, min(5000, sessions // 20)))
        ]
        return cls(seed, users, films)


@dataclass
class Rows:
    """A range of rows, column by column."""

    event_id: list[uuid.UUID] = field(default_factory=list)
    type: list[str] = field(default_factory=list)
    user_id: list[str] = field(default_factory=list)
    film_id: list[uuid.UUID] = field(default_factory=list)
    occurred_at: list[datetime] = field(default_factory=list)
    received_at: list[datetime] = field(default_factory=list)
    position_sec: list[float] = field(default_factory=list)
    seq: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.event_id)

    def tuples(self) -> list[tuple[object, ...]]:
        """Rows in COLUMNS order."""
        return [
            (e, t, u, f, 1, o, r, p, DURATION_S, s)
            for e, t, u, f, o, r, p, s in zip(
                self.event_id, self.type, self.user_id, self.film_id,
                self.occurred_at, self.received_at, self.position_sec, self.seq, strict=True,
            )
        ]  # fmt: skip

    def json_lines(self) -> bytes:
        """JSONEachRow, as the loader sends ClickHouse the records of the API."""
        return b"\n".join(
            orjson.dumps(dict(zip(COLUMNS, row, strict=True))) for row in self.tuples()
        )


def _kind(beat: int, ends: bool) -> str:
    if beat == 0:
        return "play"
    if beat == BEATS - 1:
        return "end" if ends else "stop"
    return "pause" if beat % 20 == 10 else "view_progress"


def rows(world: World, start: int, stop: int) -> Rows:
    """Rows start..stop-1 of the study's events."""
    out = Rows()
    window_s = DAYS * 86400 - BEATS * BEAT_S
    for session in range(start // BEATS, (stop - 1) // BEATS + 1 if stop > start else 0):
        rng = random.Random(world.seed * 1_000_003 + session)
        user = world.users[rng.randrange(len(world.users))]
        film = world.films[int(len(world.films) * rng.random() ** 2)]
        began = REFERENCE - timedelta(
            seconds=rng.randrange(window_s), microseconds=rng.randrange(10**6)
        )
        ends = rng.random() < 1 / 3
        for beat in range(BEATS):
            event_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            delay = timedelta(microseconds=rng.randrange(20_000, 400_000))
            number = session * BEATS + beat
            if not start <= number < stop:
                continue
            at = began + timedelta(seconds=beat * BEAT_S)
            out.event_id.append(event_id)
            out.type.append(_kind(beat, ends))
            out.user_id.append(user)
            out.film_id.append(film)
            out.occurred_at.append(at)
            out.received_at.append(at + delay)
            out.position_sec.append(float(beat * BEAT_S))
            out.seq.append(0)
    return out


def chunks(start: int, stop: int, size: int) -> list[tuple[int, int]]:
    """(first, end) row ranges of `size` rows covering start..stop."""
    return [(first, min(stop, first + size)) for first in range(start, stop, size)]
