"""Content as the APIs show it: plain pydantic models, no storage concerns."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

MIN_SCORE = 0
MAX_SCORE = 10
Score = Annotated[int, Field(ge=MIN_SCORE, le=MAX_SCORE, description="0 to 10")]
ReviewText = Annotated[str, Field(min_length=10, max_length=10_000)]

T = TypeVar("T")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RatingIn(Strict):
    score: Score


class Rating(Strict):
    film_id: UUID
    score: Score
    created_at: datetime
    updated_at: datetime


class FilmRatingSummary(Strict):
    film_id: UUID
    count: int
    average: float | None = Field(description="null while nobody has rated the film")
    distribution: dict[str, int] = Field(description="how many gave each score, '0' to '10'")
    my_score: Score | None = None


class ReviewIn(Strict):
    text: ReviewText
    spoiler: bool = False


class ReviewPatch(Strict):
    text: ReviewText | None = None
    spoiler: bool | None = None


class Review(Strict):
    id: str
    film_id: UUID
    author_id: str
    text: str
    spoiler: bool
    likes: int
    dislikes: int
    score: int = Field(description="likes minus dislikes")
    author_score: Score | None = Field(description="the author's rating of the film")
    created_at: datetime
    updated_at: datetime


class VoteValue(StrEnum):
    like = "like"
    dislike = "dislike"


class VoteIn(Strict):
    value: VoteValue


class VoteResult(Strict):
    review_id: str
    likes: int
    dislikes: int
    score: int
    my_vote: VoteValue | None


class Bookmark(Strict):
    film_id: UUID
    created_at: datetime


class ReviewSort(StrEnum):
    newest = "newest"
    score = "score"
