"""What reviewers watched of the films they reviewed, read from the warehouse.

The content service owns reviews, the events pipeline owns viewing; the join is
a fact the content service keeps beside each review (`author_viewing`,
`verified`), read from ClickHouse by the same completion rule the analytics use
(`warehouse.viewings`), one query per film for the authors of a page, by the
events table's sorting key. Reviews are never withheld for it: when ClickHouse
does not answer, reviews are served with the figures last read (and their
`as_of`), or none.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from ugc.content.models import AuthorViewing
from ugc.settings import ViewingRules
from ugc.warehouse.sink import EventSink, SinkError
from ugc.warehouse.viewings import OF_FILM_VIEWERS, fold, rows_sql

log = logging.getLogger(__name__)


class Viewings(Protocol):
    async def of(self, film_id: UUID, authors: Iterable[str]) -> dict[str, AuthorViewing] | None:
        """Each author's viewing of the film (those who never played it: nothing
        watched); None when the warehouse did not answer."""


class WarehouseViewings:
    def __init__(self, sink: EventSink, database: str, rules: ViewingRules) -> None:
        self._sink = sink
        self._db = database
        self._rules = rules

    async def of(self, film_id: UUID, authors: Iterable[str]) -> dict[str, AuthorViewing] | None:
        users = sorted(set(authors))
        if not users:
            return {}
        now = datetime.now(UTC)
        try:
            rows = await self._sink.query(
                rows_sql(self._db, OF_FILM_VIEWERS), {"film": str(film_id), "users": users}
            )
        except SinkError as exc:
            log.warning("reviewers' viewing not read, the warehouse did not answer: %s", exc)
            return None
        found = {
            v.user_id: AuthorViewing(
                progress=v.progress,
                completed=bool(v.completions),
                viewings=len(v.completions),
                as_of=now,
            )
            for v in fold(rows, self._rules)
        }
        nothing = AuthorViewing(progress=0.0, completed=False, viewings=0, as_of=now)
        return {user: found.get(user, nothing) for user in users}


class NoViewings:
    """No warehouse configured for the content service: figures are never known."""

    async def of(self, film_id: UUID, authors: Iterable[str]) -> dict[str, AuthorViewing] | None:
        del film_id, authors
        return None
