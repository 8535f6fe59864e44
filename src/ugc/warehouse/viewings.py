"""Viewings: a viewer's watches of a film, folded from their playback events.

The rules (docs/api.md, "Viewing rules"), event by event in the order they
occurred:
- an event *completes* when it is an `end`, or its position reaches `credits_sec`
  when the event carries it, else `watched_fraction` of the length;
- an event is in the *start region* when its position is under
  `resume_min_fraction` of the length;
- the first completing event completes the first viewing; after that the viewing
  stays complete (seeking about past the threshold, resuming, replays add nothing)
  until an event in the start region starts a new one, which the next completing
  event completes in turn.

So the events that matter are the completing and start-region ones ("marks"), in
time order; runs of the same kind collapse to their first, and each completing
run is one completed viewing. A replayed event repeats a mark and changes
nothing; a late one is placed by its time.

ClickHouse hands over the rows (one viewer's by the `by_user` projection, or one
film's viewers by the sorting key) and the fold is done here: a query that folds
them in SQL took longer to plan than the rows take to read, and the rules are
plain Python, unit-tested without a server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ugc.events.contract import PLAYBACK_TYPES
from ugc.settings import ViewingRules

PLAYBACK = "(" + ", ".join(f"'{kind}'" for kind in PLAYBACK_TYPES) + ")"
_COMPLETES, _STARTS = 2, 1


def rows_sql(database: str, where: str) -> str:
    """The playback rows a fold needs, of the events `where` selects (the names
    differ from the columns', which `where` reads)."""
    return f"""
        SELECT user_id, toString(film_id) AS film, type, toString(occurred_at) AS occurred,
               toString(received_at) AS received, seq, coalesce(position_sec, to_sec) AS at,
               duration_sec, credits_sec
        FROM {database}.events
        WHERE {where} AND type IN {PLAYBACK}
    """  # noqa: S608 - the database name is a validated identifier; `where` is ours


OF_USER = "user_id = {user:String}"
OF_FILM_VIEWERS = "film_id = {film:UUID} AND has({users:Array(String)}, user_id)"


@dataclass(slots=True)
class Viewing:
    """One viewer's viewings of one film, as far as the events go."""

    user_id: str
    film_id: str
    position_sec: float | None = None  # the last position
    furthest_sec: float = 0.0
    duration_sec: float | None = None  # the longest length an event gave
    last_watched_at: datetime | None = None
    completions: list[datetime] = field(default_factory=list)  # oldest first
    completed: bool = False  # the latest viewing is complete

    @property
    def progress(self) -> float:
        """The furthest share of the film reached (0-1); 0 without a length."""
        if not self.duration_sec:
            return 0.0
        return min(self.furthest_sec / self.duration_sec, 1.0)


def fold(rows: Iterable[Mapping[str, Any]], rules: ViewingRules) -> list[Viewing]:
    """The viewings of the rows, one per viewer and film."""
    ordered = sorted(rows, key=lambda r: (r["occurred"], r["received"], int(r["seq"])))
    found: dict[tuple[str, str], Viewing] = {}
    last_mark: dict[tuple[str, str], int] = {}
    for row in ordered:
        key = (row["user_id"], row["film"])
        viewing = found.get(key) or found.setdefault(key, Viewing(*key))
        at, duration = row["at"], row["duration_sec"]
        viewing.position_sec = at
        if at is not None:
            viewing.furthest_sec = max(viewing.furthest_sec, at)
        if duration is not None:
            viewing.duration_sec = max(viewing.duration_sec or 0.0, duration)
        viewing.last_watched_at = _time(row["occurred"])
        mark = _mark(row, rules)
        if mark and mark != last_mark.get(key):
            last_mark[key] = mark
            if mark == _COMPLETES:
                viewing.completions.append(viewing.last_watched_at)
            viewing.completed = mark == _COMPLETES
    return list(found.values())


def _mark(row: Mapping[str, Any], rules: ViewingRules) -> int:
    at, duration, credits = row["at"], row["duration_sec"], row["credits_sec"]
    if row["type"] == "end":
        return _COMPLETES
    if at is None:
        return 0
    threshold = credits if credits is not None else None
    if threshold is None and duration:
        threshold = rules.watched_fraction * duration
    if threshold is not None and at >= threshold:
        return _COMPLETES
    if duration and at < rules.resume_min_fraction * duration:
        return _STARTS
    return 0


def _time(text: str) -> datetime:
    """ClickHouse's DateTime64 text, in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
