"""The content rules, as plain functions: no I/O, no storage format.

Every store adapter (MongoDB's, the tests' fakes) moves its counters with these,
so "a film's summary equals its ratings" and "a review's counts equal its votes"
are decided once, and unit-tested without a server.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID

from ugc.content.errors import NotYours
from ugc.content.models import MAX_SCORE, MIN_SCORE, FilmRatingSummary, VoteValue

# Paging a film's reviews by score freezes the order of up to this many of them,
# so votes cast while someone pages neither repeat a review nor skip one.
RANKING_CAP = 1000
SCORES = tuple(str(score) for score in range(MIN_SCORE, MAX_SCORE + 1))
POINTS = {VoteValue.like: 1, VoteValue.dislike: -1}


@dataclass(frozen=True, slots=True)
class RatingMove:
    """What one rating change does to its film's summary."""

    count: int = 0
    total: int = 0  # the sum of the scores
    distribution: Mapping[int, int] = field(default_factory=dict)  # score -> change


def rating_move(before: int | None, after: int | None) -> RatingMove:
    """The summary's change when a user's score of a film goes from `before` to
    `after` (None: no rating)."""
    distribution: dict[int, int] = {}
    if before is not None:
        distribution[before] = distribution.get(before, 0) - 1
    if after is not None:
        distribution[after] = distribution.get(after, 0) + 1
    return RatingMove(
        count=(after is not None) - (before is not None),
        total=(after or 0) - (before or 0),
        distribution={score: n for score, n in distribution.items() if n},
    )


def rating_summary(
    film_id: UUID, *, count: int, total: int, distribution: Mapping[str, int], my_score: int | None
) -> FilmRatingSummary:
    """A film's summary as the API shows it, from its counters."""
    return FilmRatingSummary(
        film_id=film_id,
        count=count,
        average=round(total / count, 2) if count else None,
        distribution={score: int(distribution.get(score, 0)) for score in SCORES},
        my_score=my_score,
    )


@dataclass(frozen=True, slots=True)
class VoteMove:
    """What one vote change does to its review's counters."""

    likes: int
    dislikes: int
    score: int  # likes minus dislikes


def points(value: VoteValue | None) -> int:
    """A vote as stored: 1 a like, -1 a dislike, 0 none."""
    return POINTS[value] if value is not None else 0


def vote_move(before: int, after: int) -> VoteMove:
    """The review's change when a user's vote goes from `before` to `after` (points)."""
    return VoteMove(
        likes=(after == 1) - (before == 1),
        dislikes=(after == -1) - (before == -1),
        score=after - before,
    )


def ensure_author(author_id: str, user_id: str) -> None:
    """Only the author of a review changes or deletes it."""
    if author_id != user_id:
        raise NotYours("Only the author may change or delete a review.")


# The 95% two-sided normal quantile: helpfulness is the lower bound of the 95%
# Wilson score interval of the share of likes.
Z95 = 1.959963984540054


def helpfulness(likes: int, dislikes: int) -> float:
    """The lower bound of the 95% Wilson score interval of likes / votes: one like
    of one (0.21) does not beat 90 of 100 (0.83); no votes is 0."""
    votes = likes + dislikes
    if votes <= 0:
        return 0.0
    share = likes / votes
    z2 = Z95 * Z95
    centre = share + z2 / (2 * votes)
    margin = Z95 * math.sqrt(share * (1 - share) / votes + z2 / (4 * votes * votes))
    return max(0.0, (centre - margin) / (1 + z2 / votes))


def is_verified(*, progress: float, viewings: int, verified_fraction: float) -> bool:
    """A reviewer who completed the film, or watched at least that share of it."""
    return viewings > 0 or progress >= verified_fraction
