"""What every content store of the study does, and the queries it is asked.

Reads answer in the same plain form whatever the store (no ids of its own, no
times), so the study can check that the stores agree before it compares times.
Reviews are named by their film and author, which identify one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from ugc.research.content.data import Content

# The seed's four, then the pages the content API serves most.
SEED_QUERIES = (
    "liked films of a user",
    "ratings of a film",
    "bookmarks of a user",
    "average rating of a film",
)
OUR_QUERIES = ("reviews of a film, newest first", "reviews of a film, by score")
QUERIES = SEED_QUERIES + OUR_QUERIES
WRITES = ("rate a film", "vote on a review", "bookmark a film")
PAGE = 20  # the API's default page


@dataclass(frozen=True)
class Params:
    user: str
    film: uuid.UUID


@dataclass(frozen=True)
class Write:
    kind: str  # one of WRITES
    user: str
    film: uuid.UUID
    author: str = ""  # of the review voted on
    value: int = 0  # the score, or the vote (+1, -1)


class ContentStore(Protocol):
    name: str
    design: str  # the indexes and counters, for the report

    async def load(self, content: Content, advance: Any) -> None:
        """All of `content` into the empty store, the store's fast way;
        `advance(n)` as documents go in."""

    async def ask(self, query: str, params: Params) -> Any:
        """The answer to one of QUERIES, plain."""

    async def write(self, change: Write) -> None:
        """One of WRITES, in the store's transaction with its counters."""

    async def describe(self) -> dict[str, Any]:
        """The server's version and the settings that matter."""

    async def close(self) -> None: ...


def page_of(items: list[Any], total: int, has_more: bool) -> dict[str, Any]:
    return {"items": items, "total": total, "more": has_more}


def distribution(counts: dict[int, int]) -> dict[str, int]:
    """Scores 0..10 and how many gave each, as the summary shows them."""
    return {str(score): int(counts.get(score, 0)) for score in range(11)}
