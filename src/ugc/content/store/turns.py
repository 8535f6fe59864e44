"""Taking turns per key within one process: writers of one document go one after
another instead of colliding in transactions.

Concurrent transactions on one review's counters conflict; the driver retries
them with backoff, and forty voters at once turned into a retry storm that took
minutes and slowed every other write. In turn, each vote is a few milliseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

from ugc.content.errors import StoreUnavailable

K = TypeVar("K", bound=Hashable)


class Turns(Generic[K]):
    def __init__(self) -> None:
        # A key's lock and how many hold or wait for it; forgotten when none do.
        self._locks: dict[K, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def of(self, key: K, *, timeout_s: float | None) -> AsyncIterator[None]:
        """Hold the key's turn for the block; StoreUnavailable when it does not come
        within `timeout_s` (the writes before it took too long)."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            try:
                async with asyncio.timeout(timeout_s):
                    await lock.acquire()
            except TimeoutError:
                raise StoreUnavailable("Too many changes to this at once; retry shortly.") from None
            try:
                yield
            finally:
                lock.release()
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
