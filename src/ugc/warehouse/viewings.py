"""A viewer's viewings of each film, from their playback events, as one SQL subquery.

The rules (docs/api.md, "Viewing rules"), event by event in the order they
occurred:
- an event *completes* when it is an `end`, or its position reaches `credits_sec`
  when the event carries it, else `watched_fraction` of the length;
- an event is in the *start region* when its position is under
  `resume_min_fraction` of the length;
- the first completing event completes the first viewing; after that, the viewing
  stays complete (seeking about past the threshold, resuming, replays add nothing)
  until an event in the start region starts a new one, which the next completing
  event completes in turn.

So the events that matter are the completing and start-region ones ("marks"), in
time order; runs of the same kind collapse to their first, and each completing
run is one completed viewing. Replayed events repeat a mark and change nothing;
late events are placed by their time. Every row read is the user's own, through
the events table's `by_user` projection.
"""

from __future__ import annotations

from typing import Any

from ugc.events.contract import PLAYBACK_TYPES
from ugc.settings import ViewingRules

PLAYBACK = "(" + ", ".join(f"'{kind}'" for kind in PLAYBACK_TYPES) + ")"
COMPLETES = 2
STARTS = 1


def rule_parameters(rules: ViewingRules) -> dict[str, Any]:
    """The values the subquery's `{watched}` and `{resume_min}` parameters take."""
    return {"watched": rules.watched_fraction, "resume_min": rules.resume_min_fraction}


def per_film(database: str) -> str:
    """One row per film the user `{user:String}` played: `film_id`, the last
    `position_sec`, `duration_sec`, `last_watched_at`, `completions` (when each
    viewing completed, oldest first) and `completed` (the latest viewing is)."""
    return _viewings(database, "user_id = {user:String}", "film_id")


def per_viewer(database: str) -> str:
    """The same, one row per user of `{users:Array(String)}` who played the film
    `{film:UUID}`, with `user_id` (read by the events table's sorting key)."""
    return _viewings(
        database, "film_id = {film:UUID} AND has({users:Array(String)}, user_id)", "user_id"
    )


def _viewings(database: str, where: str, key: str) -> str:
    return f"""
        SELECT {key},
               argMax(at, (occurred_at, received_at, seq)) AS position_sec,
               max(at) AS furthest_sec,
               max(duration_sec) AS duration_sec,
               max(occurred_at) AS last_watched_at,
               arraySort(groupArrayIf((occurred_at, received_at, seq, mark), mark > 0)) AS marks,
               arrayFilter((m, i) -> i = 1 OR m.4 != marks[i - 1].4, marks, arrayEnumerate(marks))
                   AS runs,
               arrayMap(m -> m.1, arrayFilter(m -> m.4 = {COMPLETES}, runs)) AS completions,
               length(runs) > 0 AND runs[-1].4 = {COMPLETES} AS completed
        FROM (
            SELECT film_id, user_id, occurred_at, received_at, seq, position_sec, to_sec,
                   duration_sec,
                   coalesce(position_sec, to_sec) AS at,
                   multiIf(
                       type = 'end' OR ifNull(at >= coalesce(
                           credits_sec,
                           if(duration_sec > 0, {{watched:Float64}} * duration_sec, NULL)
                       ), 0), {COMPLETES},
                       ifNull(duration_sec > 0 AND at < {{resume_min:Float64}} * duration_sec, 0),
                       {STARTS},
                       0
                   ) AS mark
            FROM {database}.events
            WHERE {where} AND type IN {PLAYBACK}
        )
        GROUP BY {key}
    """  # noqa: S608 - the database name is a validated identifier; the rest is ours
