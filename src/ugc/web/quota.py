"""Per-user quotas: a token bucket per user, in this process.

Each API process keeps its own buckets, so a user behind N processes may get up
to N times the quota; they are there to stop runaway clients and scripts (a
player stuck in a loop, a script hammering writes), not to bill. A refusal says
when to come back.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

_MAX_USERS = 100_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """`burst` in a row, refilled at `per_second`."""

    def __init__(
        self,
        *,
        per_second: float,
        burst: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = per_second
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, user_id: str, cost: float = 1.0) -> float | None:
        """None when it may go ahead (and the cost is taken), else the seconds until
        it may. A cost over the burst is charged as the whole burst."""
        cost = min(cost, self._burst)
        now = self._clock()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= _MAX_USERS:
                self._forget_full(now)
            bucket = self._buckets[user_id] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return None
        return (cost - bucket.tokens) / self._rate if self._rate > 0 else math.inf

    def _forget_full(self, now: float) -> None:
        """Users whose bucket has refilled are the same as users never seen."""
        self._buckets = {
            user: bucket
            for user, bucket in self._buckets.items()
            if bucket.tokens + (now - bucket.updated) * self._rate < self._burst
        }
