"""A small, short-lived, in-process memory of hot documents.

A popular film's rating summary is read far more often than it changes; keeping
it for a second saves the database most of those reads. Writes made by this
process forget the entry at once; other processes' writes show within `ttl_s`.
A read that began before such a write and ends after it is not kept (`stamp`),
or the write's own process would serve the old value for `ttl_s`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    def __init__(
        self, *, ttl_s: float, size: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl_s
        self._clock = clock
        self._size = size
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._epoch = 0
        self._forgotten: OrderedDict[K, int] = OrderedDict()  # key -> epoch of its last forget

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if self._clock() >= expires:
            del self._entries[key]
            return None
        return value

    def stamp(self) -> int:
        """Taken before reading what will be `put`: a forget after it voids the put."""
        return self._epoch

    def put(self, key: K, value: V, *, read_since: int | None = None) -> None:
        if read_since is not None and self._forgotten.get(key, -1) > read_since:
            return  # written meanwhile: what was read may be older than the write
        self._entries[key] = (self._clock() + self._ttl, value)
        self._entries.move_to_end(key)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)
        self._epoch += 1
        self._forgotten[key] = self._epoch
        self._forgotten.move_to_end(key)
        if len(self._forgotten) > 4 * self._size:
            self._forgotten.popitem(last=False)
