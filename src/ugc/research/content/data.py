"""The study's content: ratings, reviews with votes and bookmarks, the same for
every store, drawn from a seeded generator.

Viewers are uniform, films are not (a few popular ones get most of the
ratings, reviews and votes, as on a real site); every (viewer, film) pair is
rated, reviewed or bookmarked at most once, every voter votes once per review.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass

WORDS = (
    "the", "film", "its", "ending", "cast", "score", "pacing", "camera", "light", "story",
    "scene", "actor", "director", "slow", "brilliant", "quiet", "long", "short", "funny",
    "dark", "warm", "cold", "honest", "strange", "second", "first", "watch", "again", "never",
    "always", "music", "sound", "frame", "colour", "city", "night", "morning", "house", "road",
)  # fmt: skip


@dataclass(frozen=True)
class Content:
    users: list[str]
    films: list[uuid.UUID]
    ratings: list[tuple[str, uuid.UUID, int]]
    reviews: list[tuple[str, uuid.UUID, str]]
    votes: list[tuple[int, str, int]]  # (index in reviews, voter, +1 or -1)
    bookmarks: list[tuple[str, uuid.UUID]]

    @property
    def documents(self) -> int:
        return len(self.ratings) + len(self.reviews) + len(self.votes) + len(self.bookmarks)


def _pairs(
    rng: random.Random, count: int, users: list[str], pick_film: Callable[[], uuid.UUID]
) -> list[tuple[str, uuid.UUID]]:
    seen: set[tuple[str, uuid.UUID]] = set()
    found: list[tuple[str, uuid.UUID]] = []
    while len(found) < count:
        pair = (users[rng.randrange(len(users))], pick_film())
        if pair not in seen:
            seen.add(pair)
            found.append(pair)
    return found


def _text(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randrange(8, 60))).capitalize() + "."


def generate(docs: int, seed: int = 2026) -> Content:
    """`docs` ratings, reviews and bookmarks, and half as many votes; about 20 of
    each per viewer and 200 per film (at most 20,000 films)."""
    rng = random.Random(seed)
    users = [
        str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(max(50, docs // 20))
    ]
    films = [
        uuid.UUID(int=rng.getrandbits(128), version=4)
        for _ in range(max(20, min(20_000, docs // 200)))
    ]

    def popular() -> uuid.UUID:
        return films[int(len(films) * rng.random() ** 2)]

    ratings = [(u, f, rng.randint(0, 10)) for u, f in _pairs(rng, docs, users, popular)]
    reviews = [(u, f, _text(rng)) for u, f in _pairs(rng, docs, users, popular)]
    votes: list[tuple[int, str, int]] = []
    voted: set[tuple[int, str]] = set()
    while len(votes) < docs // 2:
        key = (int(len(reviews) * rng.random() ** 3), users[rng.randrange(len(users))])
        if key not in voted:
            voted.add(key)
            votes.append((*key, 1 if rng.random() < 0.75 else -1))
    bookmarks = _pairs(rng, docs, users, popular)
    return Content(users, films, ratings, reviews, votes, bookmarks)
