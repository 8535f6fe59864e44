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
    ContinueWatching,
    DistinctViewers,
    FilmStats,
    FilmsWatched,
    HistoryEntry,
    MaxPosition,
    ResumePoint,
    TopFilm,
    TrendingFilm,
)
from ugc.analytics.queries import AnalyticsQueries
from ugc.analytics.rankings import TopFilmsRankings, utc_today
from ugc.analytics.trending import TrendingFilms, Window
from ugc.analytics.viewings import ViewingQueries
from ugc.auth import ANALYST_ROLE, subject_rule, user_id_of
from ugc.errors import Forbidden, Invalid
from ugc.web.cursor import Cursor, Page
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
    viewings: ViewingQueries
    trending: TrendingFilms  # kept ready when `rankings` are, else computed when asked


async def _queries(request: Request) -> AnalyticsQueries:
    return state_of(request, AnalyticsState).queries


def _storable(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}")
    return day


async def _viewings(request: Request) -> ViewingQueries:
    return state_of(request, AnalyticsState).viewings


Queries = Annotated[AnalyticsQueries, Depends(_queries)]
Viewings = Annotated[ViewingQueries, Depends(_viewings)]
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


async def _own(who: Annotated[str, Depends(_whose)], user: CurrentUser) -> str:
    """`me` or the caller's own id, whatever their roles: what changes a viewer's
    rows is theirs alone."""
    if who != user.user_id:
        raise Forbidden("Only viewers change their own rows, whatever their roles.")
    return who


Own = Annotated[str, Depends(_own)]
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


@router.get("/films/trending", summary="Trending films: recent distinct viewers, decayed")
async def trending_films(
    request: Request,
    response: Response,
    user: CurrentUser,
    window: Annotated[Window, Query(description="the last 24 hours, or 7 days")] = Window.day,
    limit: Limit = 10,
) -> list[TrendingFilm]:
    """A film's score sums, over the viewers who played it in the window, 0.5^(a / h):
    `a` the whole hours from the hour the viewer last played it to the current hour,
    `h` the half-life `UGC_TRENDING_HALF_LIFE_H` (24). Kept ready in the background
    (`Age` says how old the answer is, at most a minute by default)."""
    del user
    trending = state_of(request, AnalyticsState).trending
    ready = trending.ready(window, limit)
    if ready is not None:
        films, age = ready
        response.headers["Age"] = str(age)
        return films
    return await trending.ask(window, limit)


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


@router.get(
    "/users/{user_ref}/continue-watching",
    summary="Films started and not finished, most recent first",
    responses=_OTHERS | problems(s422="A parameter or the cursor is not valid."),
)
async def continue_watching(
    who: Whose, viewings: Viewings, limit: Limit = 20, cursor: Cursor = None
) -> Page[ContinueWatching]:
    """The rules are docs/api.md's "Viewing rules": a film enters once played past
    `UGC_RESUME_MIN_FRACTION` (5%) of a length of at least `UGC_RESUME_MIN_LENGTH_S`
    (300 s), leaves when the viewing completes (`end`, `credits_sec`, or
    `UGC_WATCHED_FRACTION`, 90%), after `UGC_CONTINUE_WATCHING_DAYS` (112) idle, or
    when hidden until it is played again."""
    return await viewings.continue_watching(who, limit, cursor)


@router.delete(
    "/users/{user_ref}/continue-watching/{film_id}",
    status_code=204,
    summary="Hide a film from Continue Watching, keeping its resume point",
    responses=problems(s403="Another user's row: only viewers change their own."),
)
async def hide_from_continue_watching(who: Own, film_id: FilmId, viewings: Viewings) -> None:
    """Idempotent and durable; once answered, no read of the row shows the film
    until a playback event of it later than the hide. `/resume` still answers it."""
    await viewings.hide(who, film_id)


@router.get(
    "/users/{user_ref}/history",
    summary="Completed viewings, newest first",
    responses=_OTHERS | problems(s422="A parameter or the cursor is not valid."),
)
async def history(
    who: Whose, viewings: Viewings, limit: Limit = 20, cursor: Cursor = None
) -> Page[HistoryEntry]:
    """One entry per completed viewing: seeking past the end, resuming after it or
    replayed events add none; playing again from the start region (under 5%) after
    a completed viewing starts a new one, and its completion is a second entry."""
    return await viewings.history(who, limit, cursor)
