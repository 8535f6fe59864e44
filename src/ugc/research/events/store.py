"""What every events store of the study does, and the queries it is asked.

Each store answers each query in the same plain form (`plain`), so the study can
check that the stores agree on the data before it compares their times.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from ugc.research.answers import plain
from ugc.research.events.data import Rows

# The seed's queries, then the project's own analytics (ugc.analytics.queries).
SEED_QUERIES = (
    "point select by user",
    "average position per film",
    "max position, user and film",
    "distinct viewers per film",
    "distinct films per user",
)
OUR_QUERIES = ("film stats (30 days)", "top films (30 days)", "resume points of a user")
QUERIES = SEED_QUERIES + OUR_QUERIES
TOP = 10
RESUME = 20


@dataclass(frozen=True)
class Params:
    user: str
    film: uuid.UUID
    since: date
    until: date


class EventStore(Protocol):
    name: str
    design: str  # how the data are laid out for this engine, for the report

    async def prepare(self, *, bulk: bool = False) -> None:
        """An empty events table (made again if it was there); `bulk` when a bulk
        load comes next, for engines that build their indexes after one."""

    async def insert(self, rows: Rows) -> None:
        """One INSERT of these rows: the seed's way, 1,000 at a time."""

    async def load(self, rows: Rows) -> None:
        """The engine's own fast path for a large block of rows."""

    async def loaded(self) -> None:
        """After the bulk load: what the engine does before serving queries."""

    async def ask(self, query: str, params: Params) -> Any:
        """The answer to one of QUERIES, `plain`."""

    async def describe(self) -> dict[str, Any]:
        """The server's version and the settings that matter."""

    async def another(self) -> EventStore:
        """A store on its own connection to the same data, for concurrent inserts."""

    async def close(self) -> None: ...


def ranked(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Top films as stores can agree on them: the viewer counts in order, and the
    films above the cutoff with their figures. Films tied at the cutoff are each
    a right answer (and engines order UUIDs differently: ClickHouse by its two
    64-bit halves), so which of them made the list is left out."""
    listed = [plain(dict(r)) for r in rows]
    counts = [r["viewers"] for r in listed]
    cutoff = counts[-1] if len(counts) == TOP else -1
    above = sorted((r for r in listed if r["viewers"] > cutoff), key=lambda r: r["film_id"])
    return {"viewers": counts, "above_cutoff": above}
