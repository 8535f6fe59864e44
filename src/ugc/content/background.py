"""Work done off the request path: at most one task per key at a time, a bounded
number at once, failures logged (what was kept serves meanwhile)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
log = logging.getLogger(__name__)


class Background(Generic[K]):
    def __init__(self, what: str, *, at_once: int = 1) -> None:
        self._what = what
        self._running: set[K] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._lanes = asyncio.Semaphore(at_once)

    def soon(self, key: K, work: Callable[[], Awaitable[object]]) -> bool:
        """Run `work` for `key` in the background, unless it already runs or waits
        for a lane; False then."""
        if key in self._running:
            return False
        self._running.add(key)
        task = asyncio.get_running_loop().create_task(self._in_turn(key, work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _in_turn(self, key: K, work: Callable[[], Awaitable[object]]) -> None:
        try:
            async with self._lanes:
                await work()
        except Exception as exc:  # noqa: BLE001 - what was kept serves meanwhile
            log.warning("%s of %s failed: %s", self._what, key, exc)
        finally:
            self._running.discard(key)

    async def settle(self) -> None:
        """Wait for what runs now (tests, and a clean stop)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.settle()
