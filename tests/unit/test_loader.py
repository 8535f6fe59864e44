"""The loader's logic over fakes at its ports: ordered commits, bisection of bad
batches into dead letters, retries while ClickHouse is unavailable."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pytest

from ugc.loader.batch import batch_token
from ugc.loader.loader import Loader
from ugc.loader.ports import DeadLetterUnavailable
from ugc.settings import LoaderSettings
from ugc.warehouse.sink import RowsRefused, SinkError, WarehouseUnavailable

pytestmark = pytest.mark.unit

TOPIC = "events"


class TP(NamedTuple):
    topic: str
    partition: int


@dataclass(frozen=True)
class FakeRecord:
    topic: str
    partition: int
    offset: int
    value: bytes
    key: bytes = b"user"
    headers: tuple[tuple[str, bytes], ...] = (("x-request-id", b"req"),)
    timestamp: int = 1_764_000_000_000


class FakeSource:
    """Partitions of records, handed out in offset order; commits remembered."""

    def __init__(
        self, values: Mapping[int, Sequence[bytes]], committed: Mapping[int, int] | None = None
    ) -> None:
        self.pending = {
            TP(TOPIC, p): [FakeRecord(TOPIC, p, n, v) for n, v in enumerate(vs)]
            for p, vs in values.items()
        }
        self.ends = {tp: len(records) for tp, records in self.pending.items()}
        self.commits: list[dict[Any, int]] = []
        self.committed_before = {TP(TOPIC, p): n for p, n in (committed or {}).items()}

    async def getmany(self, *, timeout_ms: int, max_records: int) -> dict[Any, list[FakeRecord]]:
        out: dict[Any, list[FakeRecord]] = {}
        for tp, records in self.pending.items():
            take, self.pending[tp] = records[:max_records], records[max_records:]
            max_records -= len(take)
            if take:
                out[tp] = take
        if not out:
            await asyncio.sleep(min(timeout_ms, 20) / 1000)
        return out

    async def commit(self, offsets: Mapping[Any, int]) -> None:
        self.commits.append(dict(offsets))

    def highwater(self, partition: Any) -> int | None:
        return self.ends.get(partition)

    async def committed(self, partition: Any) -> int | None:
        return self.committed_before.get(partition)


@dataclass
class FakeSink:
    """Refuses any insert holding a line with b"bad" as bad data; can be unavailable
    for the first few inserts, or hold the first insert until released."""

    unavailable_for: int = 0
    hold_first: bool = False
    landed: list[bytes] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    calls: int = 0
    released: asyncio.Event = field(default_factory=asyncio.Event)
    later_in: asyncio.Event = field(default_factory=asyncio.Event)

    async def insert_json_rows(
        self, table: str, columns: Sequence[str], rows: bytes, *, dedup_token: str
    ) -> None:
        self.calls += 1
        if self.unavailable_for:
            self.unavailable_for -= 1
            raise WarehouseUnavailable("Code: 242. Table is in readonly mode")
        lines = rows.split(b"\n")
        if any(b"bad" in line for line in lines):
            raise RowsRefused("Code: 27. Cannot parse input")
        first = self.calls == 1
        if first and self.hold_first:
            await self.released.wait()
        self.landed += lines
        self.tokens.append(dedup_token)
        if not first:
            self.later_in.set()

    async def query(self, sql: str, parameters: dict[str, Any] | None = None) -> list[Any]:
        return []

    async def execute(self, sql: str) -> None:
        return None

    async def close(self) -> None:
        return None


@dataclass
class FakeDeadLetters:
    """Takes dead letters, after refusing the first `unavailable_for` of them."""

    unavailable_for: int = 0
    sent: list[tuple[bytes, dict[str, bytes]]] = field(default_factory=list)

    async def send(
        self, value: bytes, *, key: bytes | None, headers: Sequence[tuple[str, bytes]]
    ) -> None:
        if self.unavailable_for:
            self.unavailable_for -= 1
            raise DeadLetterUnavailable("KafkaTimeoutError: the topic does not exist")
        self.sent.append((value, dict(headers)))


def loader(source: FakeSource, sink: FakeSink, dead: FakeDeadLetters, **limits: Any) -> Loader:
    settings = LoaderSettings(max_wait_s=0.05, retry_cap_s=0.05, **limits)
    return Loader(source, sink, dead, settings, database="db")


async def run_until(made: Loader, done: Any, timeout_s: float = 10) -> None:
    task = asyncio.create_task(made.run())
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not done():
            assert asyncio.get_running_loop().time() < deadline, "never got there"
            assert not task.done(), task
            await asyncio.sleep(0.005)
    finally:
        made.stop()
        await task


async def test_a_bad_line_is_isolated_to_a_dead_letter_and_the_rest_lands_once() -> None:
    source = FakeSource({0: [b"a1\na2", b"b1\nbad\nb3", b"c1"], 1: [b"d1"]})
    sink, dead = FakeSink(), FakeDeadLetters()
    made = loader(source, sink, dead)

    await run_until(made, lambda: source.commits and dead.sent)

    assert sorted(sink.landed) == [b"a1", b"a2", b"b1", b"b3", b"c1", b"d1"]
    ((value, headers),) = dead.sent
    assert value == b"bad"
    assert headers["ugc-source-partition"] == b"0"
    assert headers["ugc-source-offset"] == b"1"
    assert headers["ugc-source-line"] == b"1"
    assert headers["x-request-id"] == b"req"
    assert b"Cannot parse" in headers["ugc-dead-letter-reason"]
    assert len(set(sink.tokens)) == len(sink.tokens)  # every landed part named apart
    assert source.commits[-1] == {TP(TOPIC, 0): 3, TP(TOPIC, 1): 1}
    assert made.stats.dead_lettered == 1
    assert made.stats.rows == 7  # the batch's events, the dead-lettered one included


async def test_a_later_batch_landing_first_is_committed_after_the_earlier_one() -> None:
    source = FakeSource({0: [b"%d" % n for n in range(10)]})
    sink, dead = FakeSink(hold_first=True), FakeDeadLetters()
    made = loader(source, sink, dead, max_rows=5)
    task = asyncio.create_task(made.run())
    try:
        await asyncio.wait_for(sink.later_in.wait(), 10)
        for _ in range(20):  # the second batch is in; its commit must wait for the first
            await asyncio.sleep(0.005)
        assert source.commits == []

        sink.released.set()
        while len(source.commits) < 2:
            await asyncio.sleep(0.005)
    finally:
        sink.released.set()
        made.stop()
        await task

    assert source.commits == [{TP(TOPIC, 0): 5}, {TP(TOPIC, 0): 10}]


async def test_clickhouse_unavailable_is_waited_out_with_nothing_committed_meanwhile() -> None:
    source = FakeSource({0: [b"x1", b"x2"]})
    sink, dead = FakeSink(unavailable_for=3), FakeDeadLetters()
    made = loader(source, sink, dead)

    await run_until(made, lambda: source.commits)

    assert made.stats.insert_failures == 3
    assert sink.landed == [b"x1", b"x2"]
    assert source.commits == [{TP(TOPIC, 0): 2}]
    assert dead.sent == []


async def test_stopping_while_clickhouse_is_down_commits_nothing() -> None:
    source = FakeSource({0: [b"y1"]})
    sink, dead = FakeSink(unavailable_for=10_000), FakeDeadLetters()
    made = loader(source, sink, dead)

    await run_until(made, lambda: made.stats.insert_failures >= 2)

    assert source.commits == []
    assert sink.landed == []


async def test_a_dead_letter_topic_not_taking_rows_is_waited_out_not_a_crash() -> None:
    source = FakeSource({0: [b"ok1", b"bad", b"ok2"]})
    sink, dead = FakeSink(), FakeDeadLetters(unavailable_for=3)
    made = loader(source, sink, dead)

    await run_until(made, lambda: source.commits)

    assert [value for value, _ in dead.sent] == [b"bad"]
    assert sorted(sink.landed) == [b"ok1", b"ok2"]
    assert source.commits == [{TP(TOPIC, 0): 3}]  # committed only once the letter was written


async def test_stopping_while_dead_letters_cannot_be_written_commits_nothing() -> None:
    source = FakeSource({0: [b"bad"]})
    sink, dead = FakeSink(), FakeDeadLetters(unavailable_for=10_000)
    made = loader(source, sink, dead)

    await run_until(made, lambda: dead.unavailable_for < 10_000 - 2)

    assert source.commits == []


def test_a_replay_keeps_its_token_and_another_incarnation_gets_another() -> None:
    def records(values: list[bytes], since: int) -> dict[Any, list[FakeRecord]]:
        made = [FakeRecord(TOPIC, 0, n, v, timestamp=since + n) for n, v in enumerate(values)]
        return {TP(TOPIC, 0): made}

    first = batch_token(records([b"a", b"bb", b"c"], 1_000))
    replay = batch_token(records([b"a", b"bb", b"c"], 1_000))
    reborn = batch_token(records([b"x", b"yy", b"zzz"], 9_000))  # same offsets, a new topic

    assert first == replay
    assert first != reborn
    assert first.startswith(f"{TOPIC}:p0=0-2~")


async def test_offsets_below_the_committed_ones_are_noticed_and_still_loaded() -> None:
    source = FakeSource({0: [b"a1", b"b1"], 1: [b"c1"]}, committed={0: 40, 1: 0})
    sink, dead = FakeSink(), FakeDeadLetters()
    made = loader(source, sink, dead)

    await run_until(made, lambda: source.commits)

    assert sorted(sink.landed) == [b"a1", b"b1", b"c1"]
    assert made.stats.offset_resets == 1  # partition 0 only


# What ClickHouse says, by class: rows it cannot take, and a server that cannot
# take any rows right now (which must never turn good rows into dead letters).
BAD_ROWS = [
    "Code: 27. DB::Exception: Cannot parse input: expected '\"' before: 'x'. (CANNOT_PARSE_INPUT)",
    "Code: 376. DB::Exception: Cannot parse UUID from String. (CANNOT_PARSE_UUID)",
    "Code: 469. DB::Exception: Constraint `sane` is violated. (VIOLATED_CONSTRAINT)",
]
NOT_NOW = [
    "Code: 173. DB::Exception: Cannot allocate memory. (CANNOT_ALLOCATE_MEMORY)",
    "Code: 241. DB::Exception: Memory limit (total) exceeded. (MEMORY_LIMIT_EXCEEDED)",
    "Code: 252. DB::Exception: Too many parts (3001) in all partitions. (TOO_MANY_PARTS)",
    "Code: 1001. DB::Exception: std::bad_alloc. (STD_EXCEPTION)",
    "Code: 159. DB::Exception: Timeout exceeded: elapsed 30 seconds. (TIMEOUT_EXCEEDED)",
    "Code: 999. DB::Exception: Coordination error: Connection loss. (KEEPER_EXCEPTION)",
    "Code: 242. DB::Exception: Table is in readonly mode. (TABLE_IS_READ_ONLY)",
    "Connection refused",
]


@dataclass
class SaysOnce(FakeSink):
    """The first insert fails as ClickHouse would say it; the rest land."""

    said: str = ""

    async def insert_json_rows(
        self, table: str, columns: Sequence[str], rows: bytes, *, dedup_token: str
    ) -> None:
        if self.said:
            said, self.said = self.said, ""
            self.calls += 1
            raise SinkError.from_exception(RuntimeError(said))
        await super().insert_json_rows(table, columns, rows, dedup_token=dedup_token)


@pytest.mark.parametrize("said", NOT_NOW)
async def test_a_server_that_cannot_take_rows_now_is_retried_never_dead_lettered(
    said: str,
) -> None:
    source = FakeSource({0: [b'{"n":1}', b'{"n":2}']})
    sink, dead = SaysOnce(said=said), FakeDeadLetters()
    await run_until(loader(source, sink, dead), lambda: len(sink.landed) == 2)

    assert isinstance(SinkError.from_exception(RuntimeError(said)), WarehouseUnavailable)
    assert dead.sent == []
    assert sink.calls == 2  # the same batch, again


@pytest.mark.parametrize("said", BAD_ROWS)
async def test_rows_clickhouse_cannot_take_go_to_dead_letters(said: str) -> None:
    source = FakeSource({0: [b'{"n":1}']})
    sink, dead = SaysOnce(said=said), FakeDeadLetters()
    await run_until(loader(source, sink, dead), lambda: len(dead.sent) == 1)

    assert isinstance(SinkError.from_exception(RuntimeError(said)), RowsRefused)
    assert dead.sent[0][0] == b'{"n":1}'
    assert (
        said.split(".", maxsplit=1)[0].removeprefix("Code: ")
        in dead.sent[0][1]["ugc-dead-letter-reason"].decode()
    )
