"""A viewer's own rows: Continue Watching (with the films they hid) and history.

Both are folded from the user's playback events (one query by the `by_user`
projection, `ugc.warehouse.viewings`), so they are as fresh as the pipeline; a
hide is a row of the analytics' own table, read (by its key) on every request,
so the GET after a DELETE never shows the film. A viewer's listing is small
(a row per film), so it is ordered and paged here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from ugc.analytics.models import ContinueWatching, HistoryEntry
from ugc.analytics.queries import AnalyticsQueries
from ugc.errors import InvalidCursor
from ugc.settings import ViewingRules
from ugc.warehouse.viewings import OF_USER, Viewing, fold, rows_sql
from ugc.web import cursor
from ugc.web.cursor import Page

HIDDEN = "continue_watching_hidden"
# The cursor's time, as ClickHouse reads a DateTime64(6) parameter.
_TIME = "%Y-%m-%d %H:%M:%S.%f"
_STALE = "The cursor is not one this API made; start from the first page."
T = TypeVar("T")


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

    async def _viewings(self, user_id: str) -> list[Viewing]:
        rows = await self._queries.rows(rows_sql(self._db, OF_USER), {"user": user_id})
        return fold(rows, self._rules)

    async def continue_watching(
        self, user_id: str, limit: int, after: str | None
    ) -> Page[ContinueWatching]:
        """Films started and not complete, most recently watched first; not the ones
        hidden since they were last played, nor the ones idle past the window."""
        rules = self._rules
        since = self._clock() - timedelta(days=rules.continue_watching_days)
        viewings = await self._viewings(user_id)
        hidden = {
            str(row["film_id"]): _time(row["hidden_at"])
            for row in await self._queries.rows(
                f"""
                SELECT toString(film_id) AS film_id, toString(max(hidden_at)) AS hidden_at
                FROM {self._db}.{HIDDEN}
                WHERE user_id = {{user:String}}
                GROUP BY film_id
                """,  # noqa: S608 - the database name is a validated identifier
                {"user": user_id},
            )
        }
        listing = []
        for v in viewings:
            position, length, last = v.position_sec, v.duration_sec, v.last_watched_at
            if (
                v.completed
                or position is None
                or length is None
                or last is None
                or length < rules.resume_min_length_s
                or position < rules.resume_min_fraction * length
                or last < since
                or (v.film_id in hidden and last <= hidden[v.film_id])
            ):
                continue
            entry = ContinueWatching(
                film_id=UUID(v.film_id),
                position_sec=position,
                duration_sec=length,
                progress=min(position / length, 1.0),
                last_watched_at=last,
            )
            listing.append(((last, v.film_id), entry))
        return _page(listing, limit, after)

    async def history(self, user_id: str, limit: int, after: str | None) -> Page[HistoryEntry]:
        """One entry per completed viewing, newest first."""
        listing = [
            (
                (at, v.film_id, number),
                HistoryEntry(film_id=UUID(v.film_id), completed_at=at, viewing=number),
            )
            for v in await self._viewings(user_id)
            for number, at in enumerate(v.completions, 1)
        ]
        return _page(listing, limit, after)

    async def hide(self, user_id: str, film_id: UUID) -> None:
        """Hide the film from the user's Continue Watching row until a playback
        event later than now; its resume point stays as it is."""
        await self._queries.write_row(
            HIDDEN,
            {"user_id": user_id, "film_id": str(film_id), "hidden_at": _text(self._clock())},
        )


def _page(listing: list[tuple[tuple[Any, ...], T]], limit: int, after: str | None) -> Page[T]:
    """A page of the listing, newest first by its keys, after the cursor's key."""
    listing.sort(key=lambda keyed: keyed[0], reverse=True)
    rest = listing
    if after is not None:
        position = _position(after, len(listing[0][0]) if listing else None)
        rest = [keyed for keyed in listing if keyed[0] < position]
    page = rest[:limit]
    more = len(rest) > limit
    next_cursor = None
    if more:
        at, *others = page[-1][0]
        next_cursor = cursor.encode([_text(at), *others])
    return Page(items=[item for _, item in page], total=len(listing), next_cursor=next_cursor)


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_TIME)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _position(after: str, size: int | None) -> tuple[Any, ...]:
    """A cursor's (time, film id[, viewing]), each checked to be what it says."""
    found = None
    for kinds in ((str, str), (str, str, int)):
        try:
            found = cursor.decode(after, kinds=kinds)
            break
        except InvalidCursor:
            continue
    if found is None or (size is not None and len(found) != size):
        raise InvalidCursor(_STALE)
    try:
        at = datetime.strptime(found[0], _TIME).replace(tzinfo=UTC)
        film = str(UUID(found[1]))
    except ValueError:
        raise InvalidCursor(_STALE) from None
    if len(found) == 3 and not 1 <= found[2] < 2**32:
        raise InvalidCursor(_STALE)
    return (at, film, *found[2:])
