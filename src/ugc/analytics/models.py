"""The analytics API's answers. Queries return these, validated from ClickHouse's
rows, so a column renamed in SQL fails loudly instead of changing the HTTP contract
(and the OpenAPI document describes every answer)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _in_utc(moment: datetime) -> datetime:
    """ClickHouse writes the events' times in UTC without saying so."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


UtcTime = Annotated[datetime, AfterValidator(_in_utc)]


class Answer(BaseModel):
    # ClickHouse writes 64-bit integers as JSON strings; lax mode reads them back.
    model_config = ConfigDict(extra="forbid", frozen=True)


class FilmStats(Answer):
    film_id: UUID
    since: date
    until: date
    viewers: int = Field(description="distinct viewers in the period")
    watch_seconds: float = Field(description="seconds watched, summed over viewers and days")
    average_completion: float | None = Field(
        description="the average share of the film viewers reached (0-1); null without lengths"
    )
    completions: int = Field(description="viewer-days that reached the end")


class TopFilm(Answer):
    film_id: UUID
    viewers: int = Field(description="distinct viewers in the period (within about 1%)")
    watch_seconds: float


class ResumePoint(Answer):
    film_id: UUID
    position_sec: float | None = Field(description="the last position in the film")
    last_watched_at: UtcTime


class AveragePosition(Answer):
    film_id: UUID
    average_position_sec: float | None = Field(description="null while there are no events")
    events: int


class DistinctViewers(Answer):
    film_id: UUID
    viewers: int


class MaxPosition(Answer):
    user_id: str
    film_id: UUID
    max_position_sec: float | None = Field(description="null when the user never watched it")


class FilmsWatched(Answer):
    user_id: str
    films: int


class ContinueWatching(Answer):
    film_id: UUID
    position_sec: float = Field(description="where to resume")
    duration_sec: float
    progress: float = Field(description="position / duration (0-1)")
    last_watched_at: UtcTime


class HistoryEntry(Answer):
    film_id: UUID
    completed_at: UtcTime = Field(description="when this viewing reached its end")
    viewing: int = Field(description="1 for the first completed viewing of the film, 2 ...")


class TrendingFilm(Answer):
    film_id: UUID
    score: float = Field(
        description="sum over the film's viewers in the window of 0.5^(hours since the "
        "viewer last watched it / UGC_TRENDING_HALF_LIFE_H)"
    )
    viewers: int = Field(description="distinct viewers in the window")
