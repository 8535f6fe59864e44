"""Finding the rows ClickHouse refuses, by halves, so that the rest of a batch lands.

A batch that fails as bad data is split in halves of records, each inserted
again, down to one record; a record's lines are split the same way down to one
line, which goes to the dead letters. Every part carries a token of its own
(its offsets, and its lines), so a part that landed before a crash is not
inserted twice when the batch is read again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from ugc.loader.batch import Record, join_values, slice_token
from ugc.loader.dead_letter_writer import DeadLetters
from ugc.warehouse.sink import RowsRefused

Insert = Callable[[bytes, str], Awaitable[None]]


async def insert_isolating(
    insert: Insert, dead_letters: DeadLetters, records: Sequence[Record], rows: bytes, token: str
) -> None:
    """Insert the rows of `records`; the lines refused end as dead letters."""
    try:
        await insert(rows, token)
    except RowsRefused as error:
        if len(records) == 1:
            lines = rows.split(b"\n")
            await _isolate_lines(insert, dead_letters, records[0], lines, 0, str(error))
            return
        middle = len(records) // 2
        for half in (records[:middle], records[middle:]):
            await insert_isolating(insert, dead_letters, half, join_values(half), slice_token(half))


async def _isolate_lines(
    insert: Insert,
    dead_letters: DeadLetters,
    record: Record,
    lines: list[bytes],
    first: int,
    reason: str,
) -> None:
    """The bad lines of one record; `first` is the index of lines[0] in the record."""
    if len(lines) == 1:
        await dead_letters.send(record, first, lines[0], reason)
        return
    middle = len(lines) // 2
    for start, part in ((first, lines[:middle]), (first + middle, lines[middle:])):
        token = f"{slice_token([record])}#{start}-{start + len(part) - 1}"
        try:
            await insert(b"\n".join(part), token)
        except RowsRefused as error:
            await _isolate_lines(insert, dead_letters, record, part, start, str(error))
