"""The loader and erasures, over fakes at its ports: an erased user's records are
dropped (their offsets committed all the same), and the warehouse removal runs
only after every insert read before the suppression is in."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.unit.test_loader import TOPIC, TP, FakeDeadLetters, FakeRecord, FakeSink, FakeSource
from ugc.events.suppressions import Suppression
from ugc.loader.erasures import Erasures
from ugc.loader.loader import Loader
from ugc.settings import LoaderSettings

pytestmark = pytest.mark.unit


class FakeSuppressions:
    def __init__(self, *users: str) -> None:
        self.by_user = {u: Suppression(u, f"erasure-{u}", datetime.now(UTC)) for u in users}

    def erased_key(self, key: bytes | None) -> bool:
        return key is not None and key.decode() in self.by_user

    def __len__(self) -> int:
        return len(self.by_user)

    def all(self) -> list[Suppression]:
        return list(self.by_user.values())


class FakeWarehouse:
    """Records each removal, with the rows the sink held when it ran."""

    def __init__(self, sink: FakeSink) -> None:
        self.sink = sink
        self.recorded: dict[str, dict[str, Any]] = {}
        self.removals: list[tuple[str, list[bytes]]] = []

    async def erased(self) -> dict[str, dict[str, Any]]:
        return dict(self.recorded)

    async def erase(self, user_id: str, erasure_id: str) -> dict[str, int]:
        self.removals.append((user_id, list(self.sink.landed)))
        self.recorded[user_id] = {"masked_at": "2026-12-03 10:00:00", "physical_at": None}
        return {"events": 1}

    async def make_physical(self, erased: dict[str, dict[str, Any]]) -> int:
        return 0


def keyed(values: list[tuple[bytes, bytes]]) -> FakeSource:
    source = FakeSource({0: [v for _, v in values]})
    source.pending[TP(TOPIC, 0)] = [
        FakeRecord(TOPIC, 0, n, value, key=key) for n, (key, value) in enumerate(values)
    ]
    return source


def loader_with(
    source: FakeSource, sink: FakeSink, suppressions: FakeSuppressions, **limits: Any
) -> tuple[Loader, FakeWarehouse]:
    warehouse = FakeWarehouse(sink)
    erasures = Erasures(suppressions, warehouse, physical_s=86_400)  # type: ignore[arg-type]
    settings = LoaderSettings(max_wait_s=0.05, retry_cap_s=0.05, **limits)
    made = Loader(source, sink, FakeDeadLetters(), settings, database="db", erasures=erasures)
    return made, warehouse


async def test_an_erased_users_records_never_land_and_their_offsets_are_committed() -> None:
    source = keyed([(b"alice", b"a1"), (b"bob", b"b1"), (b"alice", b"a2\na3"), (b"bob", b"b2")])
    sink = FakeSink()
    made, warehouse = loader_with(source, sink, FakeSuppressions("alice"))
    task = asyncio.create_task(made.run())
    try:
        while not source.commits or source.commits[-1] != {TP(TOPIC, 0): 4}:
            assert not task.done(), task
            await asyncio.sleep(0.005)
    finally:
        made.stop()
        await task

    assert sorted(sink.landed) == [b"b1", b"b2"]
    assert [user for user, _ in warehouse.removals] == ["alice"]  # once, not per batch


async def test_the_removal_waits_for_inserts_read_before_the_suppression() -> None:
    source = keyed([(b"alice", b"a1"), (b"bob", b"b1"), (b"alice", b"a2"), (b"bob", b"b2"),
                    (b"alice", b"a3"), (b"bob", b"b3")])  # fmt: skip
    sink = FakeSink(hold_first=True)
    suppressions = FakeSuppressions()
    made, warehouse = loader_with(source, sink, suppressions, max_rows=2)
    task = asyncio.create_task(made.run())
    try:
        while not sink.calls:  # the first batch (a1, b1) is being inserted, held
            await asyncio.sleep(0.005)
        suppressions.by_user["alice"] = Suppression("alice", "e", datetime.now(UTC))
        await asyncio.sleep(0.2)
        assert warehouse.removals == []  # not while alice's a1 may still land
        sink.released.set()
        while not warehouse.removals:
            assert not task.done(), task
            await asyncio.sleep(0.005)
        while not source.commits or source.commits[-1] != {TP(TOPIC, 0): 6}:
            await asyncio.sleep(0.005)
    finally:
        sink.released.set()
        made.stop()
        await task

    ((user, landed_before),) = warehouse.removals
    assert user == "alice"
    # The two batches read before the suppression went in first, and were removed after.
    assert {b"a1", b"a2"} <= set(landed_before)
    assert b"a3" not in sink.landed  # read after the suppression: dropped
    assert b"b3" in sink.landed
