"""The study's pure parts: its figures, its data (the same whenever they are made)
and the forms in which stores must agree."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from ugc.research.answers import agreement, plain
from ugc.research.content.data import generate
from ugc.research.events.data import BEATS, World, chunks, rows
from ugc.research.events.store import TOP, ranked
from ugc.research.timing import Timing, percentile, repeat

pytestmark = pytest.mark.unit


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]
    assert percentile(values, 0.50) == 50
    assert percentile(values, 0.99) == 99
    assert percentile([7.0], 0.95) == 7
    timing = Timing.of([0.001] * 98 + [0.5, 1.0])
    assert (timing.p50_ms, timing.p99_ms, timing.n) == (1.0, 500.0, 100)
    assert timing.per_s == pytest.approx(100 / 1.598, abs=0.1)


async def test_repeat_warms_up_untimed_and_stops_at_its_budget() -> None:
    calls: list[int] = []

    async def call(i: int) -> None:
        calls.append(i)

    timing = await repeat(call, repeats=20, warmup=3)
    assert calls == list(range(23))
    assert timing.n == 20
    calls.clear()
    assert (await repeat(call, repeats=50, warmup=0, budget_s=0.0)).n == 10


def test_event_rows_are_the_same_in_any_split() -> None:
    world = World.for_rows(1_000)
    whole = rows(world, 0, 1_000)
    parts = [rows(world, first, end) for first, end in chunks(0, 1_000, 137)]
    assert [r for part in parts for r in part.tuples()] == whole.tuples()
    assert len(whole) == 1_000
    assert rows(World.for_rows(1_000), 250, 260).tuples() == whole.tuples()[250:260]


def test_a_session_is_played_beat_by_beat() -> None:
    session = rows(World.for_rows(1_000), BEATS, 2 * BEATS)
    assert session.type[0] == "play"
    assert session.type[-1] in {"stop", "end"}
    assert len(set(session.user_id)) == len(set(session.film_id)) == 1
    assert session.position_sec == [float(beat * 30) for beat in range(BEATS)]
    steps = {b - a for a, b in zip(session.occurred_at, session.occurred_at[1:], strict=False)}
    assert steps == {timedelta(seconds=30)}
    assert all(r > o for o, r in zip(session.occurred_at, session.received_at, strict=True))


def test_content_pairs_are_unique_and_votes_name_reviews() -> None:
    content = generate(2_000)
    assert content == generate(2_000)
    assert len({(u, f) for u, f, _ in content.ratings}) == len(content.ratings) == 2_000
    assert len({(u, f) for u, f, _ in content.reviews}) == 2_000
    assert len(set(content.bookmarks)) == 2_000
    assert len({(i, voter) for i, voter, _ in content.votes}) == len(content.votes) == 1_000
    assert all(0 <= i < 2_000 and value in (1, -1) for i, _, value in content.votes)
    assert all(0 <= score <= 10 for _, _, score in content.ratings)


def test_plain_answers_compare_equal_across_drivers() -> None:
    film = uuid.uuid4()
    moment = datetime(2026, 11, 30, 12, tzinfo=UTC)
    ours = {"film": film, "at": moment, "average": 1 / 3, "n": 3, "sum": Decimal("1.5")}
    theirs = {"film": str(film), "at": moment.astimezone(timezone(timedelta(hours=3))),
              "average": 0.3333333333, "n": 3, "sum": 1.5}  # fmt: skip
    assert plain(ours) == plain(theirs)
    assert plain(moment.replace(tzinfo=None)) == plain(moment)
    assert plain(float("nan")) is None


def test_top_films_tied_at_the_cutoff_agree() -> None:
    a, b, c = (str(uuid.UUID(int=n)) for n in (1, 2, 3))
    head = [{"film_id": str(uuid.UUID(int=100 + n)), "viewers": 50 - n} for n in range(TOP - 1)]
    one = ranked([*head, {"film_id": a, "viewers": 5}])
    other = ranked([*head, {"film_id": b, "viewers": 5}])
    assert one == other
    assert ranked([*head, {"film_id": c, "viewers": 4}]) != one


def test_agreement_is_per_query() -> None:
    answers = {"a": {"q1": [1], "q2": 2}, "b": {"q1": [1], "q2": 3}}
    assert agreement(answers, ["q1", "q2"]) == {"q1": True, "q2": False}
