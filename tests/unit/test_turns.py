"""Turns per key: one holder at a time per key, others free, nothing kept after."""

from __future__ import annotations

import asyncio

import pytest

from ugc.content.errors import StoreUnavailable
from ugc.content.store.turns import Turns

pytestmark = pytest.mark.unit


async def test_holders_of_one_key_go_one_after_another_and_other_keys_do_not_wait() -> None:
    turns: Turns[str] = Turns()
    inside: dict[str, int] = {"a": 0, "b": 0}
    most: dict[str, int] = {"a": 0, "b": 0}
    order: list[str] = []

    async def hold(key: str, name: str) -> None:
        async with turns.of(key, timeout_s=5):
            inside[key] += 1
            most[key] = max(most[key], inside[key])
            order.append(name)
            await asyncio.sleep(0.01)
            inside[key] -= 1

    await asyncio.gather(*(hold("a", f"a{n}") for n in range(5)), hold("b", "b0"))

    assert most == {"a": 1, "b": 1}
    assert order[:2] == ["a0", "b0"]  # b did not wait behind the queue of a
    assert len(turns) == 0  # nothing remembered once nobody holds or waits


async def test_a_turn_that_does_not_come_in_time_is_store_unavailable() -> None:
    turns: Turns[str] = Turns()
    release = asyncio.Event()

    async def long_holder() -> None:
        async with turns.of("k", timeout_s=5):
            await release.wait()

    holder = asyncio.create_task(long_holder())
    await asyncio.sleep(0)
    with pytest.raises(StoreUnavailable):
        async with turns.of("k", timeout_s=0.05):
            pass
    release.set()
    await holder

    assert len(turns) == 0
