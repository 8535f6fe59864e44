from __future__ import annotations

import base64
import json

import pytest

from ugc.errors import InvalidCursor
from ugc.warehouse.sink import RowsRefused, SinkError, WarehouseUnavailable
from ugc.web import cursor

pytestmark = pytest.mark.unit


def test_a_cursor_round_trips_and_refuses_anything_else() -> None:
    token = cursor.encode(["f", "6b0b7e9207e498adb93c808a", 20])

    assert cursor.decode_tagged(token, {"f": (str, int), "k": (int, str)}) == (
        "f",
        ["6b0b7e9207e498adb93c808a", 20],
    )
    for bad in ["", "not-base64!", cursor.encode(["f", 1, 2]), cursor.encode({"a": 1})]:
        with pytest.raises(InvalidCursor):
            cursor.decode_tagged(bad, {"f": (str, int)})
    with pytest.raises(InvalidCursor):
        cursor.decode(cursor.encode([True]), kinds=(int,))  # a bool is not a position


@pytest.mark.parametrize("number", [2**63, -(2**63) - 1, 2**64 - 1])
def test_a_cursor_integer_beyond_what_the_store_holds_is_refused(number: int) -> None:
    made = base64.urlsafe_b64encode(json.dumps([number]).encode()).decode()  # as a client would
    with pytest.raises(InvalidCursor):
        cursor.decode(made, kinds=(int,))
    assert cursor.decode(cursor.encode([2**63 - 1]), kinds=(int,)) == [2**63 - 1]


@pytest.mark.parametrize(
    ("message", "bad_data"),
    [
        ("Code: 27. DB::Exception: Cannot parse input: expected '{'", True),
        ("Code: 376. DB::Exception: Cannot parse uuid", True),
        ("Code: 242. DB::Exception: Table is in readonly mode", False),
        ("Code: 241. DB::Exception: Memory limit (total) exceeded", False),
        ("Connection refused", False),
    ],
)
def test_clickhouse_errors_are_told_apart_bad_rows_from_a_server_not_able(
    message: str, bad_data: bool
) -> None:
    error = SinkError.from_exception(RuntimeError(message + "\nstack trace line"))

    assert isinstance(error, RowsRefused) is bad_data
    assert isinstance(error, WarehouseUnavailable) is not bad_data
    assert "stack trace" not in str(error)
