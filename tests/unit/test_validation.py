from __future__ import annotations

from typing import Any

import orjson
import pytest

from ugc.errors import Invalid, UgcError
from ugc.events.validation import split_body, validate_body, validate_events
from ugc.problems import ProblemRegistry

pytestmark = pytest.mark.unit


def status_of(error: UgcError) -> int:
    """The status every API answers this error with."""
    return ProblemRegistry(retry_after_s=1).answer(error, "test").status


FILM = "6b0b7e92-07e4-48ad-b93c-808a0d3c1f2e"


def seek(**overrides: Any) -> dict[str, Any]:
    return {"type": "seek", "film_id": FILM, "from_sec": 10, "to_sec": 600, **overrides}


def test_a_single_event_and_a_batch_are_told_apart() -> None:
    assert split_body(seek(), max_events=10) == ([seek()], False)
    assert split_body({"events": [seek(), seek()]}, max_events=10) == ([seek(), seek()], True)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"events": []}, 422),
        ({"events": "x"}, 422),
        ([seek()], 422),
        ({"events": [seek()] * 11}, 413),
    ],
)
def test_malformed_batches_are_refused_whole(body: Any, status: int) -> None:
    with pytest.raises(UgcError) as caught:
        split_body(body, max_events=10)
    assert status_of(caught.value) == status


def test_a_batch_with_unknown_keys_is_refused_naming_them() -> None:
    with pytest.raises(Invalid) as caught:
        validate_body(orjson.dumps({"events": [seek()], "pad": "x" * 10, "v": 2}), max_events=10)

    assert status_of(caught.value) == 422
    assert [e["field"] for e in caught.value.errors] == ["pad", "v"]


def test_every_event_type_of_the_contract_validates() -> None:
    items = [
        {"type": "view_progress", "film_id": FILM, "position_sec": 5, "duration_sec": 100},
        {"type": "play", "film_id": FILM, "position_sec": 0},
        {"type": "pause", "film_id": FILM, "position_sec": 1},
        seek(),
        {"type": "stop", "film_id": FILM, "position_sec": 1},
        {"type": "end", "film_id": FILM, "position_sec": 100},
        {
            "type": "quality_change",
            "film_id": FILM,
            "position_sec": 3,
            "from_quality": "720p",
            "to_quality": "1080p",
        },
        {"type": "click", "element": "play-button", "page": "/films/x"},
        {"type": "page_view", "page": "/", "referrer": "https://example.org/"},
        {"type": "search", "query": "alien", "results": 4},
    ]

    intake = validate_events(items)

    assert intake.rejections == []
    assert [e["type"] for e in intake.events] == [i["type"] for i in items]


def test_invalid_events_are_listed_by_index_and_field_and_the_rest_kept() -> None:
    items = [
        seek(),
        seek(to_sec=-1),
        {"type": "nope"},
        seek(user_id="x"),
        seek(film_id="not-a-uuid", extra=1),
        "not an object",
    ]

    intake = validate_events(items)

    assert len(intake.events) == 1
    assert intake.rejected_count == 5
    found = [(r.index, r.field) for r in intake.rejections]
    assert found == [
        (1, "to_sec"),
        (2, "type"),
        (3, "user_id"),
        (4, "film_id"),
        (4, "extra"),
        (5, "(event)"),
    ]
    assert "token" in intake.rejections[2].reason


def test_counts_past_what_the_warehouse_column_holds_are_refused() -> None:
    intake = validate_events([{"type": "search", "query": "alien", "results": 2**32}])

    assert [(r.field, r.kind) for r in intake.rejections] == [("results", "less_than_equal")]


RAW_BODIES = [
    orjson.dumps(seek()),
    b'  {"type": "seek", "film_id": "%s", "from_sec": 1, "to_sec": 2}\n' % FILM.encode(),
    orjson.dumps({"events": [seek(), seek(to_sec=5)]}),
    b' { "events" : [%b] } ' % orjson.dumps(seek()),
    orjson.dumps({"events": [seek(), seek(to_sec=-1), {"type": "nope"}]}),
    orjson.dumps({"events": [seek(user_id="x")]}),
    orjson.dumps({**seek(), "events": [seek()]}),
    orjson.dumps({"events": [seek()], "type": "seek"}),
]


@pytest.mark.parametrize("raw", RAW_BODIES)
def test_a_raw_body_gets_the_answer_of_the_event_by_event_path(raw: bytes) -> None:
    items, _ = split_body(orjson.loads(raw), max_events=10)
    expected = validate_events(items)

    intake = validate_body(raw, max_events=10)

    assert intake.events == expected.events
    assert intake.rejections == expected.rejections


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (orjson.dumps({"events": [seek()] * 11}), 413),
        (orjson.dumps({"events": []}), 422),
        (b"", 400),
        (b'{"events": [', 400),
        (b"[1, 2]", 422),
    ],
)
def test_a_raw_body_refused_whole_says_why(raw: bytes, status: int) -> None:
    with pytest.raises(UgcError) as caught:
        validate_body(raw, max_events=10)
    assert status_of(caught.value) == status
