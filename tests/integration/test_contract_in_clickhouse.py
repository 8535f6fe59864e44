"""Every event the contract accepts is a row ClickHouse takes: an event answered
202 never ends in the dead letters for a value the table cannot hold."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from ugc.events.contract import EVENT_ADAPTER, MAX_SECONDS, RECORD_FIELDS
from ugc.events.records import Arrival
from ugc.settings import Settings
from ugc.warehouse.embedded import ChdbSink
from ugc.warehouse.migrations import migrate

pytestmark = pytest.mark.integration

FILM = str(uuid.uuid4())
EDGES: list[dict[str, Any]] = [
    {
        "type": "view_progress",
        "film_id": FILM,
        "position_sec": 0,
        "duration_sec": MAX_SECONDS,
        # The widest clock-skew correction the contract allows: a century back.
        "timestamp": "2000-01-01T00:00:00Z",
        "sent_at": "2099-12-31T23:59:59.999999Z",
    },
    {
        "type": "play",
        "film_id": FILM,
        "position_sec": MAX_SECONDS,
        "timestamp": "2099-12-31T23:59:59+14:00",
    },
    {
        "type": "seek",
        "film_id": FILM,
        "from_sec": MAX_SECONDS,
        "to_sec": 0,
        "event_id": str(uuid.uuid4()),
    },
    {
        "type": "quality_change",
        "film_id": FILM,
        "position_sec": 1.5,
        "from_quality": "a" * 16,
        "to_quality": "4K_HDR-10.b",
    },
    {"type": "click", "element": "é" * 200, "page": "/" + "ж" * 2047, "event_id": None},
    {
        "type": "page_view",
        "page": "p" * 2048,
        "referrer": '"quoted" \\ \n\t newline',
        "film_id": None,
    },
    {"type": "search", "query": "😀" * 500, "results": 2**32 - 1},
    {"type": "stop", "film_id": FILM, "position_sec": 0.000001, "duration_sec": None},
    {
        "type": "end",
        "film_id": FILM,
        "position_sec": 7200,
        "timestamp": "2000-01-01T00:00:00-12:00",
    },
    {"type": "pause", "film_id": FILM, "position_sec": 3},
]


async def test_every_edge_of_the_contract_lands_in_clickhouse(
    pipeline_settings: Settings, warehouse: ChdbSink
) -> None:
    await migrate(warehouse, pipeline_settings.clickhouse)
    table = f"{pipeline_settings.clickhouse.database}.events"
    events = [EVENT_ADAPTER.validate_python(edge) for edge in EDGES]
    lines = Arrival.now('user-édge "x"').records(events)

    await warehouse.insert_json_rows(table, RECORD_FIELDS, b"\n".join(lines), dedup_token="edges")

    rows = await warehouse.query(
        f"SELECT type, user_id, query, results, page, toYear(occurred_at) AS year "
        f"FROM {table} FINAL ORDER BY occurred_at"
    )
    assert len(rows) == len(EDGES)
    assert {row["user_id"] for row in rows} == {'user-édge "x"'}
    by_type = {row["type"]: row for row in rows}
    assert by_type["search"]["query"] == "😀" * 500
    assert int(by_type["search"]["results"]) == 2**32 - 1
    assert by_type["page_view"]["page"] == "p" * 2048
    assert rows[0]["type"] == "view_progress"  # corrected a century back: the earliest
    assert int(rows[0]["year"]) < 2000
