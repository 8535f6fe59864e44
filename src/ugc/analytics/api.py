"""HTTP routes of viewing analytics. Aggregates over everyone are open to any
signed-in user; one user's data to that user, or to the `analyst` role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import AfterValidator

from ugc.analytics.models import (
    AveragePosition,
    DistinctViewers,
    FilmStats,
    FilmsWatched,
    MaxPosition,
    ResumePoint,
    TopFilm,
)
from ugc.analytics.queries import AnalyticsQueries
from ugc.analytics.rankings import TopFilmsRankings, utc_today
from ugc.auth import ANALYST_ROLE, subject_rule, user_id_of
from ugc.errors import Forbidden, Invalid
from ugc.web.dependencies import CurrentUser, kit_of, state_of
from ugc.web.openapi import problems

# The days ClickHouse's Date type holds.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2149, 6, 6)
DEFAULT_DAYS = 30

router = APIRouter(
    prefix="/api/v1/analytics", tags=["analytics"], responses=problems(401, 422, 503)
)


@dataclass(frozen=True, slots=True)
class AnalyticsState:
    """What the analytics routes read of their service."""

    queries: AnalyticsQueries
    rankings: TopFilmsRankings | None  # None: every period computed when asked


async def _queries(request: Request) -> AnalyticsQueries:
    return state_of(request, AnalyticsState).queries


def _storable(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}")
    return day


Queries = Annotated[AnalyticsQueries, Depends(_queries)]
FilmId = Annotated[UUID, Path(description="The film's UUID")]
Day = Annotated[date, AfterValidator(_storable)]
MAX_LIMIT = 100
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Since = Annotated[Day | None, Query(description="First day (UTC); default: 30 days before until")]
Until = Annotated[Day | None, Query(description="Last day (UTC), included; default: today")]


def _period(since: date | None, until: date | None) -> tuple[date, date]:
    end = until or utc_today()
    start = since or max(FIRST_DAY, end - timedelta(days=DEFAULT_DAYS))
    if start > end:
        raise Invalid(
            "`since` must not be after `until`.", [{"field": "since", "reason": "after until"}]
        )
    return start, end


async def _whose(
    request: Request,
    user_ref: Annotated[
        str, Path(min_length=1, max_length=128, description="`me`, or a user id (analysts)")
    ],
    user: CurrentUser,
) -> str:
    """`me` or the caller's own id; anyone else's data needs the analyst role. A ref
    that is no user id is refused before any store sees it."""
    if user_ref == "me":
        return user.user_id
    verifier = kit_of(request).verifier
    who = user_id_of(user_ref, verifier.subject_format)
    if who is None:
        rule = subject_rule(verifier.subject_format)
        raise Invalid.field("user_ref", f"must be `me` or a user id: {rule}")
    if who != user.user_id and not user.has_role(ANALYST_ROLE):
        raise Forbidden(f"Other users' data needs the {ANALYST_ROLE!r} role.")
    return who


Whose = Annotated[str, Depends(_whose)]
_OTHERS = problems(s403=f"Another user's data, without the {ANALYST_ROLE!r} role.")


@router.get("/films/top", summary="Most watched films of a period (default: the last 30 days)")
async def top_films(
    request: Request,
    response: Response,
    queries: Queries,
    user: CurrentUser,
    since: Since = None,
    until: Until = None,
    limit: Limit = 10,
) -> list[TopFilm]:
    """The last 7 and 30 days come from a ranking kept ready (`Age` says how old it
    is, at most a minute by default); other periods are computed when asked."""
    del user
    start, end = _period(since, until)
    rankings = state_of(request, AnalyticsState).rankings
    ready = rankings.lookup(start, end, limit) if rankings is not None else None
    if ready is not None:
        films, age = ready
        response.headers["Age"] = str(age)
        return films
    return await queries.top_films(start, end, limit)


@router.get("/films/{film_id}/stats", summary="Viewers, watch time and completion of a film")
async def film_stats(
    film_id: FilmId,
    queries: Queries,
    user: CurrentUser,
    since: Since = None,
    until: Until = None,
) -> FilmStats:
    del user
    start, end = _period(since, until)
    return await queries.film_stats(film_id, start, end)


@router.get("/films/{film_id}/average-position", summary="Average position viewers reached")
async def average_position(film_id: FilmId, queries: Queries, user: CurrentUser) -> AveragePosition:
    del user
    return await queries.average_position(film_id)


@router.get("/films/{film_id}/viewers", summary="Distinct viewers of a film")
async def distinct_viewers(film_id: FilmId, queries: Queries, user: CurrentUser) -> DistinctViewers:
    del user
    return await queries.distinct_viewers(film_id)


@router.get(
    "/users/{user_ref}/resume", summary="Where the user stopped in each film", responses=_OTHERS
)
async def resume_points(who: Whose, queries: Queries, limit: Limit = 20) -> list[ResumePoint]:
    return await queries.resume_points(who, limit)


@router.get(
    "/users/{user_ref}/films/{film_id}/max-position",
    summary="Furthest point reached",
    responses=_OTHERS,
)
async def max_position(who: Whose, film_id: FilmId, queries: Queries) -> MaxPosition:
    return await queries.max_position(who, film_id)


@router.get(
    "/users/{user_ref}/films/count",
    summary="How many distinct films the user watched",
    responses=_OTHERS,
)
async def distinct_films(who: Whose, queries: Queries) -> FilmsWatched:
    return await queries.distinct_films(who)
