"""Latency figures: a warm-up, then repetitions, each timed; percentiles and
throughput of what was timed."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from rich.progress import Progress

T = TypeVar("T")

REPEATS = 100
WARMUP = 5


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of values, not sorted yet."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


@dataclass(frozen=True)
class Timing:
    """Milliseconds; `per_s` is repetitions per second of the time spent in them."""

    n: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    per_s: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Timing:
        ms = [s * 1000 for s in seconds]
        total = sum(seconds)
        return cls(
            n=len(ms),
            p50_ms=round(percentile(ms, 0.50), 3),
            p95_ms=round(percentile(ms, 0.95), 3),
            p99_ms=round(percentile(ms, 0.99), 3),
            mean_ms=round(statistics.fmean(ms), 3) if ms else math.nan,
            per_s=round(len(ms) / total, 1) if total else math.nan,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def repeat(
    call: Callable[[int], Awaitable[T]],
    *,
    repeats: int = REPEATS,
    warmup: int = WARMUP,
    budget_s: float | None = None,
) -> Timing:
    """`call(i)` `warmup` times untimed, then `repeats` times timed. With a budget,
    stops early once the timed calls took that long (the report shows n)."""
    for i in range(warmup):
        await call(i)
    seconds: list[float] = []
    for i in range(repeats):
        started = time.perf_counter()
        await call(warmup + i)
        seconds.append(time.perf_counter() - started)
        if budget_s is not None and sum(seconds) >= budget_s and len(seconds) >= 10:
            break
    return Timing.of(seconds)


class Plan(Protocol):
    @property
    def repeats(self) -> int: ...
    @property
    def warmup(self) -> int: ...
    @property
    def budget_s(self) -> float: ...


class Asked(Protocol):
    name: str

    async def ask(self, query: str, params: Any) -> Any: ...


async def time_queries(
    store: Asked,
    queries: Sequence[str],
    params: Sequence[Any],
    plan: Plan,
    progress: Progress,
    label: str = "queries",
) -> dict[str, Any]:
    """Each query timed as `repeat` does, repetition i with `params[i]` (cycled)."""
    task = progress.add_task(f"{store.name}: {label}", total=len(queries))
    found = {}
    for query in queries:

        async def ask(i: int, query: str = query) -> Any:
            return await store.ask(query, params[i % len(params)])

        timing = await repeat(ask, repeats=plan.repeats, warmup=plan.warmup, budget_s=plan.budget_s)
        found[query] = timing.as_dict()
        progress.advance(task)
    progress.remove_task(task)
    return found
