"""The study's queries in standard SQL, for PostgreSQL and DuckDB: the same
questions ugc.analytics asks ClickHouse, over the one events table these engines
have (no materialized aggregates: computed from the events each time).

`{day}` is the engine's UTC day of `occurred_at`; `?` marks a parameter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ugc.research.answers import plain
from ugc.research.events.store import RESUME, TOP, Params, ranked
from ugc.warehouse.viewings import PLAYBACK

RowsOf = Callable[..., Awaitable[list[tuple[Any, ...]]]]

TABLE = """
CREATE TABLE events (
    event_id       uuid NOT NULL {primary},
    type           varchar NOT NULL,
    user_id        varchar NOT NULL,
    film_id        uuid NOT NULL,
    schema_version smallint NOT NULL,
    occurred_at    {timestamp} NOT NULL,
    received_at    {timestamp} NOT NULL,
    position_sec   double precision,
    duration_sec   double precision,
    seq            integer NOT NULL
)
"""

POINT = "SELECT * FROM events WHERE user_id = ?"
AVERAGE = (
    "SELECT avg(position_sec) AS average, count(*) AS events FROM events "
    "WHERE film_id = ? AND position_sec IS NOT NULL"
)
MAX = "SELECT max(position_sec) FROM events WHERE film_id = ? AND user_id = ?"
VIEWERS = "SELECT count(DISTINCT user_id) FROM events WHERE film_id = ?"
FILMS = "SELECT count(DISTINCT film_id) FROM events WHERE user_id = ?"

_USER_DAYS = f"""
    SELECT {{keys}}, {{day}} AS day,
           max(coalesce(position_sec, 0)) AS furthest,
           min(coalesce(position_sec, 0)) AS earliest,
           max(coalesce(duration_sec, 0)) AS duration,
           max(CASE WHEN type = 'end' THEN 1 ELSE 0 END) AS completed
    FROM events
    WHERE {{where}} AND type IN {PLAYBACK} AND {{day}} BETWEEN ? AND ?
    GROUP BY {{keys}}, {{day}}
"""

_FILM_USER_DAYS = _USER_DAYS.format(keys="user_id", where="film_id = ?", day="{day}")
_TOP_USER_DAYS = _USER_DAYS.format(
    keys="film_id, user_id", where="film_id IN (SELECT film_id FROM ranked)", day="{day}"
)

FILM_STATS = f"""
SELECT count(DISTINCT user_id) AS viewers,
       coalesce(sum(greatest(furthest - earliest, 0)), 0) AS watch_seconds,
       avg(least(furthest / duration, 1)) FILTER (WHERE duration > 0) AS average_completion,
       count(*) FILTER (WHERE completed = 1) AS completions
FROM ({_FILM_USER_DAYS}) AS user_days
"""

TOP_FILMS = f"""
WITH ranked AS (
    SELECT film_id, count(DISTINCT user_id) AS viewers
    FROM events
    WHERE type IN {PLAYBACK} AND {{day}} BETWEEN ? AND ?
    GROUP BY film_id
    ORDER BY viewers DESC, film_id
    LIMIT {TOP}
)
SELECT ranked.film_id, ranked.viewers, coalesce(watched.watch_seconds, 0) AS watch_seconds
FROM ranked LEFT JOIN (
    SELECT film_id, sum(greatest(furthest - earliest, 0)) AS watch_seconds
    FROM ({_TOP_USER_DAYS}) AS film_user_days
    GROUP BY film_id
) AS watched ON watched.film_id = ranked.film_id
ORDER BY ranked.viewers DESC, ranked.film_id
"""

RESUME_POINTS = f"""
SELECT film_id, position_sec, last_watched_at FROM (
    SELECT DISTINCT ON (film_id) film_id, position_sec, occurred_at AS last_watched_at
    FROM events
    WHERE user_id = ? AND type IN {PLAYBACK}
    ORDER BY film_id, occurred_at DESC, received_at DESC, seq DESC
) AS latest
ORDER BY last_watched_at DESC
LIMIT {RESUME}
"""


def in_dialect(sql: str, *, day: str, placeholder: str) -> str:
    return sql.replace("{day}", day).replace("?", placeholder)


async def answer(query: str, params: Params, rows_of: RowsOf) -> Any:  # noqa: PLR0911 - one per query
    """One of the study's queries in standard SQL, answered plain; `rows_of(sql,
    *params)` runs it in the store's dialect."""
    user, film, days = params.user, params.film, (params.since, params.until)
    if query == "point select by user":
        rows = await rows_of(POINT, user)
        return {"rows": len(rows), "positions": plain(float(sum(r[7] for r in rows)))}
    if query == "average position per film":
        ((average, events),) = await rows_of(AVERAGE, film)
        return plain({"average": average, "events": events})
    if query == "max position, user and film":
        return plain((await rows_of(MAX, film, user))[0][0])
    if query == "distinct viewers per film":
        return (await rows_of(VIEWERS, film))[0][0]
    if query == "distinct films per user":
        return (await rows_of(FILMS, user))[0][0]
    if query == "film stats (30 days)":
        ((viewers, seconds, completion, completions),) = await rows_of(FILM_STATS, film, *days)
        return plain({
            "viewers": viewers, "watch_seconds": float(seconds),
            "average_completion": completion, "completions": completions,
        })  # fmt: skip
    if query == "top films (30 days)":
        rows = await rows_of(TOP_FILMS, *days, *days)
        return ranked([{"film_id": f, "viewers": v, "watch_seconds": float(w)} for f, v, w in rows])
    if query == "resume points of a user":
        rows = await rows_of(RESUME_POINTS, user)
        return plain([{"film_id": f, "position_sec": p, "last_watched_at": t} for f, p, t in rows])
    raise ValueError(f"no such query: {query}")
