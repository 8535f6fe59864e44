"""Per-user write quota: a token bucket per user, in this process.

Writes (ratings, reviews, votes, bookmarks) beyond `burst` in a row, refilled at
`per_minute`, get 429 with Retry-After. Each API process keeps its own buckets,
so a user behind N processes may get up to N times the quota; it is there to
stop runaway clients and scripts, not to bill.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

_MAX_USERS = 100_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class WriteQuota:
    def __init__(self, *, per_minute: int, burst: int) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._buckets: dict[str, _Bucket] = {}

    def take(self, user_id: str) -> float | None:
        """None when the write may go ahead, else the seconds until it may."""
        now = time.monotonic()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= _MAX_USERS:
                self._forget_full(now)
            bucket = self._buckets[user_id] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return (1 - bucket.tokens) / self._rate if self._rate > 0 else math.inf

    def _forget_full(self, now: float) -> None:
        """Users whose bucket has refilled are the same as users never seen."""
        self._buckets = {
            user: bucket
            for user, bucket in self._buckets.items()
            if bucket.tokens + (now - bucket.updated) * self._rate < self._burst
        }
