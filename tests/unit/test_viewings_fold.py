"""The viewing rules, folded from rows as ClickHouse hands them over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ugc.settings import ViewingRules
from ugc.warehouse.viewings import fold

pytestmark = pytest.mark.unit

RULES = ViewingRules()
START = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


def rows(
    *positions: float | str, credits: float | None = None, film: str = "f"
) -> list[dict[str, Any]]:
    """A row a minute; a number is a position of a 1,000 s film, "end" an end event."""
    made = []
    for minute, position in enumerate(positions):
        at = (START + timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M:%S.%f")
        made.append(
            {
                "user_id": "u",
                "film": "f",
                "type": "end" if position == "end" else "view_progress",
                "occurred": at,
                "received": at,
                "seq": 0,
                "at": 1000.0 if position == "end" else position,
                "duration_sec": 1000.0,
                "credits_sec": credits,
            }
        )
    return made


def completions(found: list[dict[str, Any]]) -> list[int]:
    """The minutes at which viewings completed."""
    (viewing,) = fold(found, RULES)
    return [int((at - START).total_seconds() // 60) for at in viewing.completions]


def test_past_ninety_percent_completes_once_however_one_seeks_about() -> None:
    assert completions(rows(20, 500, 880)) == []
    assert completions(rows(20, 500, 910, 500, 950, 600, 990)) == [2]


def test_the_credits_complete_a_viewing_before_ninety_percent() -> None:
    assert completions(rows(20, 860, credits=850)) == [1]
    assert completions(rows(20, 940, credits=950)) == []  # credits known: 90% is not the end


def test_playing_again_from_the_start_region_is_a_new_viewing() -> None:
    assert completions(rows(10, 950, 30, 400, 960)) == [1, 4]
    assert completions(rows(10, 950, 60, 400, 960)) == [1]  # 6% is no new start


def test_an_end_event_completes_and_replays_change_nothing() -> None:
    once = rows(100, "end")
    assert completions(once) == [1]
    assert completions(once + once + once) == [1]


def test_a_late_event_is_placed_by_its_time() -> None:
    played = rows(10, 950, 20, 960)
    assert completions([played[3], played[1], played[0], played[2]]) == [1, 3]


def test_the_last_position_and_the_furthest_share() -> None:
    (viewing,) = fold(rows(20, 700, 300), RULES)
    assert viewing.position_sec == 300
    assert viewing.progress == pytest.approx(0.7)
    assert viewing.completed is False
