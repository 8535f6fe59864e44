"""Log lines that would repeat by the thousand, thinned: a client over its quota
is refused with a 429 on every request, and a line for each (half a kilobyte)
made 1,500-3,200 lines a second. The first refusal of a key in an interval is
logged, the rest counted, and the next line says how many were left out."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable


class Repeats:
    def __init__(
        self,
        *,
        interval_s: float = 10.0,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = interval_s
        self._size = size
        self._clock = clock
        # key -> (when its next line may be logged, lines left out since the last)
        self._keys: OrderedDict[Hashable, tuple[float, int]] = OrderedDict()

    def take(self, key: Hashable) -> int | None:
        """None: leave this line out (it is counted); otherwise log it, saying how
        many lines of this key were left out before it."""
        now = self._clock()
        due, left_out = self._keys.get(key, (now, 0))
        if now < due:
            self._keys[key] = (due, left_out + 1)
            return None
        self._keys[key] = (now + self._interval, 0)
        self._keys.move_to_end(key)
        if len(self._keys) > self._size:
            self._keys.popitem(last=False)
        return left_out
