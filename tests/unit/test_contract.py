from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import orjson
import pytest

from ugc.events.contract import (
    EVENT_ADAPTER,
    EVENT_TYPES,
    PLAYBACK_TYPES,
    RECORD_FIELDS,
    SCHEMA_VERSION,
    json_schema,
    occurred_at,
)
from ugc.events.records import Arrival, pack_lines

pytestmark = pytest.mark.unit

FILM = "6b0b7e92-07e4-48ad-b93c-808a0d3c1f2e"
RECEIVED = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)


def arrival(user: str = "user-1") -> Arrival:
    return Arrival.at(user, RECEIVED)


def record_of(event: Any, request: Arrival, index: int = 0) -> bytes:
    """The record of the index-th event of a request."""
    return request.records([event], first=index)[0]


def test_a_record_carries_the_event_and_what_the_server_knows() -> None:
    event = EVENT_ADAPTER.validate_python(
        {"type": "pause", "film_id": FILM.upper(), "position_sec": 7}
    )

    record = orjson.loads(record_of(event, arrival("u-42")))

    assert record["schema_version"] == SCHEMA_VERSION
    assert record["user_id"] == "u-42"
    assert record["film_id"] == FILM  # normalised
    assert record["position_sec"] == 7
    assert record["received_at"] == record["occurred_at"] == "2026-11-29T12:00:00.000000+00:00"
    assert uuid.UUID(record["event_id"]).version == 7
    assert "timestamp" not in record
    assert set(record) <= set(RECORD_FIELDS)


def test_an_event_id_sent_as_null_is_replaced_once() -> None:
    event = EVENT_ADAPTER.validate_python(
        {"type": "pause", "film_id": FILM, "position_sec": 7, "event_id": None}
    )

    line = record_of(event, arrival())

    assert line.count(b'"event_id"') == 1
    assert uuid.UUID(orjson.loads(line)["event_id"]).version == 7


def test_a_client_event_id_is_kept_so_retries_collapse() -> None:
    event_id = uuid.uuid4()
    event = EVENT_ADAPTER.validate_python(
        {"type": "play", "film_id": FILM, "position_sec": 0, "event_id": str(event_id)}
    )

    first = orjson.loads(record_of(event, arrival()))
    again = orjson.loads(record_of(event, arrival()))

    assert first["event_id"] == again["event_id"] == str(event_id)


def test_clock_skew_is_corrected_with_sent_at() -> None:
    # The client clock is 1 hour fast; the event happened 5 s before it was sent.
    event = EVENT_ADAPTER.validate_python(
        {
            "type": "play",
            "film_id": FILM,
            "position_sec": 0,
            "timestamp": "2026-11-29T13:00:00+00:00",
            "sent_at": "2026-11-29T13:00:05+00:00",
        }
    )

    assert occurred_at(event, RECEIVED) == RECEIVED - timedelta(seconds=5)
    record = orjson.loads(record_of(event, arrival()))
    assert record["occurred_at"] == "2026-11-29T11:59:55.000000+00:00"
    assert record["timestamp"] == "2026-11-29T13:00:00+00:00"


def test_timestamps_are_normalised_to_utc() -> None:
    event = EVENT_ADAPTER.validate_python(
        {
            "type": "play",
            "film_id": FILM,
            "position_sec": 0,
            "timestamp": "2026-11-29T15:00:00+03:00",
        }
    )

    assert occurred_at(event, RECEIVED) == datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        EVENT_ADAPTER.validate_python(
            {"type": "play", "film_id": FILM, "position_sec": 0, "timestamp": "2026-11-29T15:00:00"}
        )


def test_the_json_schema_names_every_event_type() -> None:
    text = orjson.dumps(json_schema()).decode()
    for name in EVENT_TYPES:
        assert f'"{name}"' in text


def test_events_without_timestamps_keep_the_order_they_were_sent_in() -> None:
    event = EVENT_ADAPTER.validate_python({"type": "pause", "film_id": FILM, "position_sec": 1})
    late = Arrival.at("u", datetime(2026, 11, 29, 12, 0, 0, 999_999, tzinfo=UTC))

    times = [orjson.loads(record_of(event, arrival(), i))["occurred_at"] for i in range(3)]
    carried = orjson.loads(record_of(event, late, 2))["occurred_at"]

    assert times == [
        "2026-11-29T12:00:00.000000+00:00",
        "2026-11-29T12:00:00.000001+00:00",
        "2026-11-29T12:00:00.000002+00:00",
    ]
    assert carried == "2026-11-29T12:00:01.000001+00:00"


def test_a_requests_events_share_a_record_under_the_size_limit() -> None:
    lines = [b"x" * 40 for _ in range(10)]

    assert pack_lines(lines) == [b"\n".join(lines)]
    packed = pack_lines(lines, limit=100)  # two lines and their separators fit
    assert packed == [b"\n".join(lines[i : i + 2]) for i in range(0, 10, 2)]
    assert b"\n".join(packed) == b"\n".join(lines)  # nothing lost, order kept
    assert pack_lines([b"y" * 500], limit=100) == [b"y" * 500]  # a long line goes alone


def test_server_ids_are_unique_version_7_and_in_the_order_sent() -> None:
    event = EVENT_ADAPTER.validate_python({"type": "pause", "film_id": FILM, "position_sec": 1})
    first, second = Arrival.now("u"), Arrival.now("u")

    ids = [uuid.UUID(orjson.loads(line)["event_id"]) for line in first.records([event] * 5000)]
    other = [uuid.UUID(orjson.loads(line)["event_id"]) for line in second.records([event] * 3)]

    assert len(set(ids + other)) == 5003
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids + other)
    assert ids[:4096] == sorted(ids[:4096])


@pytest.mark.parametrize(
    "moment", ["1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "0001-01-01T00:00:00+03:00"]
)
def test_times_no_player_clock_can_claim_are_refused(moment: str) -> None:
    with pytest.raises(ValueError, match="between 2000-01-01 and 2100-01-01"):
        EVENT_ADAPTER.validate_python(
            {"type": "play", "film_id": FILM, "position_sec": 0, "timestamp": moment}
        )
    with pytest.raises(ValueError, match="between 2000-01-01 and 2100-01-01"):
        EVENT_ADAPTER.validate_python(
            {"type": "play", "film_id": FILM, "position_sec": 0, "sent_at": moment}
        )


def test_the_warehouse_views_count_the_contracts_playback_types() -> None:
    """Each fact once: the SQL filters on the contract's playback types, no other list."""
    schema = resources.files("ugc.warehouse") / "schema"
    filters = [
        found
        for sql_file in schema.iterdir()
        if sql_file.name.endswith(".sql")
        for found in re.findall(r"WHERE type IN \(([^)]*)\)", sql_file.read_text())
    ]
    assert filters, "the views filter playback by type"
    for found in filters:
        assert re.findall(r"'(\w+)'", found) == list(PLAYBACK_TYPES)
