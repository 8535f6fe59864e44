"""Content as the APIs show it: plain pydantic models, no storage concerns."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

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


class ReviewStatus(StrEnum):
    visible = "visible"
    hidden = "hidden"  # reported by enough viewers, until a moderator decides
    removed = "removed"  # by a moderator, with a reason


class AuthorViewing(Strict):
    progress: float = Field(description="the furthest share of the film the author reached (0-1)")
    completed: bool = Field(description="the author finished the film at least once")
    viewings: int = Field(description="completed viewings of the film")
    as_of: datetime = Field(description="when these figures were read from the warehouse")


class Review(Strict):
    id: str
    film_id: UUID
    author_id: str
    text: str
    spoiler: bool
    likes: int
    dislikes: int
    score: int = Field(description="likes minus dislikes")
    helpfulness: float = Field(
        description="the lower bound of the 95% Wilson score interval of likes / votes"
    )
    author_score: Score | None = Field(description="the author's rating of the film")
    author_viewing: AuthorViewing | None = Field(
        description="what the author watched of the film, from the events; null while the "
        "warehouse has not been reached for this review"
    )
    verified: bool = Field(
        description="the author completed the film or watched at least "
        "UGC_VERIFIED_FRACTION (0.5) of it"
    )
    status: ReviewStatus = ReviewStatus.visible
    removal_reason: str | None = Field(default=None, description="a moderator's, when removed")
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
    helpful = "helpful"


class ReportReason(StrEnum):
    spoiler = "spoiler"
    abuse = "abuse"
    spam = "spam"
    off_topic = "off_topic"
    other = "other"


class ReportIn(Strict):
    reason: ReportReason
    text: Annotated[str, Field(min_length=1, max_length=500)] | None = None

    @model_validator(mode="after")
    def _other_says_why(self) -> ReportIn:
        if self.reason is ReportReason.other and not self.text:
            raise ValueError("a report for `other` needs `text` saying what is wrong")
        return self


class Report(Strict):
    review_id: str
    reason: ReportReason
    text: str | None
    open: bool = Field(description="counts towards hiding the review; closed by a moderator")
    created_at: datetime
    updated_at: datetime


class ModerationStatus(StrEnum):
    reported = "reported"
    hidden = "hidden"
    removed = "removed"


class ModeratedReview(Strict):
    review: Review
    reports: dict[str, int] = Field(description="open reports by reason")
    reported_at: datetime | None = Field(description="the oldest open report")


class RemovalIn(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class ModerationAction(Strict):
    id: str
    review_id: str
    moderator_id: str
    action: Literal["restore", "remove"]
    reason: str | None
    at: datetime
