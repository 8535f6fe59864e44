"""A viewer's own rows: Continue Watching (with the films they hid) and history.

Both are one query on the user's events (the `by_user` projection, through
`ugc.warehouse.viewings`), so they are as fresh as the pipeline; a hide is a row
of the analytics' own table, read by the same query, so the GET after a DELETE
never shows the film.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from ugc.analytics.models import ContinueWatching, HistoryEntry
from ugc.analytics.queries import AnalyticsQueries
from ugc.errors import InvalidCursor
from ugc.settings import ViewingRules
from ugc.warehouse.viewings import per_film, rule_parameters
from ugc.web import cursor
from ugc.web.cursor import Page

HIDDEN = "continue_watching_hidden"
# The cursor's time, as ClickHouse reads a DateTime64(6) parameter.
_TIME = "%Y-%m-%d %H:%M:%S.%f"
_STALE = "The cursor is not one this API made; start from the first page."
# Each listing's order (newest first), as (column, ClickHouse type) of its cursor.
_Order = tuple[tuple[str, str], ...]
_WATCHING: _Order = (("last_watched_at", "DateTime64(6, 'UTC')"), ("film_id", "UUID"))
_HISTORY: _Order = (
    ("completed_at", "DateTime64(6, 'UTC')"),
    ("film_id", "UUID"),
    ("viewing", "UInt32"),
)


def _now() -> datetime:
    return datetime.now(UTC)


class ViewingQueries:
    def __init__(
        self,
        queries: AnalyticsQueries,
        database: str,
        rules: ViewingRules,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._queries = queries
        self._db = database
        self._rules = rules
        self._clock = clock

    async def continue_watching(
        self, user_id: str, limit: int, after: str | None
    ) -> Page[ContinueWatching]:
        """Films started and not complete, most recently watched first; not the ones
        hidden since they were last played, nor the ones idle past the window."""
        rules = self._rules
        listing = f"""
            SELECT v.film_id AS film_id, v.position_sec AS position_sec,
                   v.duration_sec AS duration_sec,
                   least(v.position_sec / v.duration_sec, 1) AS progress,
                   v.last_watched_at AS last_watched_at
            FROM ({per_film(self._db)}) AS v
            LEFT JOIN (
                SELECT film_id, max(hidden_at) AS hidden_at
                FROM {self._db}.{HIDDEN}
                WHERE user_id = {{user:String}}
                GROUP BY film_id
            ) AS h ON h.film_id = v.film_id
            WHERE NOT v.completed
              AND v.duration_sec >= {{min_length:Float64}}
              AND v.position_sec >= {{resume_min:Float64}} * v.duration_sec
              AND v.last_watched_at >= {{since:DateTime64(6, 'UTC')}}
              AND v.last_watched_at > h.hidden_at
        """  # noqa: S608 - the database name is a validated identifier
        since = self._clock() - timedelta(days=rules.continue_watching_days)
        params = {"user": user_id, "min_length": rules.resume_min_length_s, "since": _text(since)}
        rows, total, more = await self._page(listing, _WATCHING, params, limit, after)
        items = [ContinueWatching(**row) for row in rows]
        last = items[-1] if more else None
        return Page(
            items=items,
            total=total,
            next_cursor=last and cursor.encode([_text(last.last_watched_at), str(last.film_id)]),
        )

    async def history(self, user_id: str, limit: int, after: str | None) -> Page[HistoryEntry]:
        """One entry per completed viewing, newest first."""
        listing = f"""
            SELECT film_id, completed_at, viewing
            FROM ({per_film(self._db)})
            ARRAY JOIN completions AS completed_at, arrayEnumerate(completions) AS viewing
        """  # noqa: S608
        rows, total, more = await self._page(listing, _HISTORY, {"user": user_id}, limit, after)
        items = [HistoryEntry(**row) for row in rows]
        last = items[-1] if more else None
        return Page(
            items=items,
            total=total,
            next_cursor=last
            and cursor.encode([_text(last.completed_at), str(last.film_id), last.viewing]),
        )

    async def _page(
        self,
        listing: str,
        order: _Order,
        params: dict[str, Any],
        limit: int,
        after: str | None,
    ) -> tuple[list[dict[str, Any]], int, bool]:
        """The rows of `listing` after the cursor (newest first, by `order`), how many
        the whole listing holds, and whether more follow."""
        params = {**params, **rule_parameters(self._rules), "limit": limit + 1}
        keys = ", ".join(name for name, _ in order)
        cut = "1"
        if after is not None:
            position = _position(after, order)
            cut = f"({keys}) < ({', '.join(f'{{after_{n}:{t}}}' for n, t in order)})"
            params |= {
                f"after_{name}": value for (name, _), value in zip(order, position, strict=True)
            }
        # The total is counted before the cursor's cut; the row that is not on the
        # page keeps it when the page itself is empty.
        rows = await self._queries.rows(
            f"""
            SELECT *, {cut} AS on_page FROM (
                SELECT *, count() OVER () AS total FROM ({listing})
            )
            ORDER BY on_page DESC, {", ".join(f"{name} DESC" for name, _ in order)}
            LIMIT {{limit:UInt32}}
            """,  # noqa: S608 - names of this module
            params,
        )
        total = int(rows[0]["total"]) if rows else 0
        page = [_without(row, "total", "on_page") for row in rows if row["on_page"]]
        return page[:limit], total, len(page) > limit

    async def hide(self, user_id: str, film_id: UUID) -> None:
        """Hide the film from the user's Continue Watching row until a playback
        event later than now; its resume point stays as it is."""
        await self._queries.write_row(
            HIDDEN,
            {"user_id": user_id, "film_id": str(film_id), "hidden_at": _text(self._clock())},
        )


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_TIME)


def _without(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in keys}


def _position(after: str, order: _Order) -> list[Any]:
    """A cursor's (time, film id[, viewing]), each checked to be what it says."""
    kinds: tuple[type, ...] = (str, str, int)[: len(order)]
    position = cursor.decode(after, kinds=kinds)
    try:
        datetime.strptime(position[0], _TIME)
        UUID(position[1])
    except ValueError:
        raise InvalidCursor(_STALE) from None
    if len(position) == 3 and not 1 <= position[2] < 2**32:
        raise InvalidCursor(_STALE)
    return position
