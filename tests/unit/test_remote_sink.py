"""The server sink's failover over replicas, with fake clients standing for servers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from ugc.warehouse.remote import DOWN_FOR_S, ClickHouseHttpSink
from ugc.warehouse.sink import READ_YOUR_WRITE, RowsRefused, WarehouseUnavailable

pytestmark = pytest.mark.unit


@dataclass
class Replica:
    name: str
    up: bool = True
    refuse_rows: bool = False
    calls: list[str] = field(default_factory=list)
    inserts: list[dict[str, Any]] = field(default_factory=list)

    async def command(self, sql: str) -> None:
        self.calls.append(sql)
        if not self.up:
            raise ConnectionRefusedError(f"{self.name}: Connection refused")
        if self.refuse_rows:
            raise RuntimeError("Code: 27. DB::Exception: Cannot parse input")

    async def raw_insert(self, table: str, **given: Any) -> None:
        self.calls.append(table)
        self.inserts.append(given)

    async def close(self) -> None:
        return None


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def sink_over(replicas: dict[str, Replica], clock: Clock) -> ClickHouseHttpSink:
    async def connect(url: str) -> Any:
        return replicas[url]

    return ClickHouseHttpSink(",".join(replicas), connect=connect, clock=clock)


async def test_a_replica_down_is_passed_over_and_tried_again_later() -> None:
    replicas = {"http://ch-1": Replica("ch-1", up=False), "http://ch-2": Replica("ch-2")}
    clock = Clock()
    sink = sink_over(replicas, clock)

    await sink.execute("SELECT 1")
    await sink.execute("SELECT 2")
    assert replicas["http://ch-1"].calls == ["SELECT 1"]  # not asked again while down
    assert replicas["http://ch-2"].calls == ["SELECT 1", "SELECT 2"]

    replicas["http://ch-1"].up = True
    clock.now += DOWN_FOR_S + 1
    await sink.execute("SELECT 3")
    assert replicas["http://ch-1"].calls[-1] == "SELECT 3"  # back first in line


async def test_every_replica_down_is_unavailable_and_bad_rows_are_not_retried() -> None:
    down = {"http://a": Replica("a", up=False), "http://b": Replica("b", up=False)}
    with pytest.raises(WarehouseUnavailable):
        await sink_over(down, Clock()).execute("SELECT 1")

    bad = {"http://a": Replica("a", refuse_rows=True), "http://b": Replica("b")}
    with pytest.raises(RowsRefused):
        await sink_over(bad, Clock()).execute("INSERT ...")
    assert bad["http://b"].calls == []  # bad rows are bad on every replica


async def test_an_insert_carries_its_token_and_the_settings_asked_for() -> None:
    """A hide must be read at once on any replica: its insert says so; the loader's
    inserts keep the defaults."""
    replica = Replica("a")
    sink = sink_over({"http://a": replica}, Clock())
    await sink.insert_json_rows(
        "db.t", ["a"], b'{"a":1}', dedup_token="t1", settings=READ_YOUR_WRITE
    )
    await sink.insert_json_rows("db.t", ["a"], b'{"a":2}', dedup_token="t2")

    asked, plain = (insert["settings"] for insert in replica.inserts)
    assert asked["insert_deduplication_token"] == "t1"
    assert asked["insert_quorum"] == "auto"
    assert "insert_quorum" not in plain
    assert asked["distributed_foreground_insert"] == plain["distributed_foreground_insert"] == 1
    assert plain["insert_deduplication_token"] == "t2"
