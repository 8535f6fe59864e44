"""HTTP routes of viewing analytics. Aggregates over everyone are open to any
signed-in user; one user's data to that user, or to the `analyst` role."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response

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
from ugc.auth import ANALYST_ROLE, Principal
from ugc.problems import Problem
from ugc.web.dependencies import CurrentUser

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])


async def _queries(request: Request) -> AnalyticsQueries:
    queries: AnalyticsQueries = request.app.state.queries
    return queries


Queries = Annotated[AnalyticsQueries, Depends(_queries)]
FilmId = Annotated[UUID, Path(description="The film's UUID")]
UserRef = Annotated[str, Path(min_length=1, max_length=128, description="A user id, or `me`")]
MAX_LIMIT = 100
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _period(since: date | None, until: date | None) -> tuple[date, date]:
    end = until or utc_today()
    start = since or end - timedelta(days=30)
    if start > end:
        raise Problem(
            422,
            "`since` must not be after `until`.",
            errors=[{"field": "since", "reason": "after until"}],
        )
    return start, end


def _user(ref: str, principal: Principal) -> str:
    """`me` or the caller's own id; anyone else's data needs the analyst role."""
    if ref in {"me", principal.user_id}:
        return principal.user_id
    if not principal.has_role(ANALYST_ROLE):
        raise Problem(403, f"Other users' data needs the {ANALYST_ROLE!r} role.")
    return ref


@router.get("/films/top", summary="Most watched films of a period (default: the last 30 days)")
async def top_films(
    request: Request,
    response: Response,
    queries: Queries,
    user: CurrentUser,
    since: date | None = None,
    until: date | None = None,
    limit: Limit = 10,
) -> list[TopFilm]:
    """The last 7 and 30 days come from a ranking kept ready (`Age` says how old it
    is, at most a minute by default); other periods are computed when asked."""
    del user
    start, end = _period(since, until)
    rankings: TopFilmsRankings | None = request.app.state.rankings
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
    since: date | None = None,
    until: date | None = None,
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


@router.get("/users/{user_ref}/resume", summary="Where the user stopped in each film")
async def resume_points(
    user_ref: UserRef, queries: Queries, user: CurrentUser, limit: Limit = 20
) -> list[ResumePoint]:
    return await queries.resume_points(_user(user_ref, user), limit)


@router.get("/users/{user_ref}/films/{film_id}/max-position", summary="Furthest point reached")
async def max_position(
    user_ref: UserRef, film_id: FilmId, queries: Queries, user: CurrentUser
) -> MaxPosition:
    return await queries.max_position(_user(user_ref, user), film_id)


@router.get("/users/{user_ref}/films/count", summary="How many distinct films the user watched")
async def distinct_films(user_ref: UserRef, queries: Queries, user: CurrentUser) -> FilmsWatched:
    return await queries.distinct_films(_user(user_ref, user))
