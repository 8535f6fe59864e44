"""`ugc research events`: the same events in ClickHouse, PostgreSQL and DuckDB;
inserts the seed's way and by each engine's fast path, the seed's queries and the
project's analytics, then the same queries while inserts go on.

For each store in turn: (1) `batch_rows` rows in INSERTs of 1,000 into a live
table; (2) the table made again and all `rows` loaded the engine's fast way;
(3) every query once with the same parameters, the answers kept (the stores must
agree); (4) every query timed; (5) timed again while another connection inserts
`concurrent_rate` rows a second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any

from rich.progress import Progress

from ugc.research.answers import agreement
from ugc.research.events.data import REFERENCE, World, chunks, rows
from ugc.research.events.store import QUERIES, EventStore, Params
from ugc.research.timing import time_queries

SEED_BATCH = 1_000


@dataclass(frozen=True)
class EventsPlan:
    rows: int = 10_000_000
    batch_rows: int = 1_000_000  # inserted the seed's way, for its rate
    block: int = 50_000  # rows per fast-path insert: the loader's batch
    repeats: int = 100
    warmup: int = 5
    budget_s: float = 30.0  # per query: fewer repetitions where one takes seconds
    concurrent_rate: int = 5_000  # rows/s inserted during (5)
    seed: int = 2026

    @classmethod
    def sized(cls, *, quick: bool, rows: int | None) -> EventsPlan:
        plan = cls.quick() if quick else cls()
        if rows is None:
            return plan
        return replace(plan, rows=rows, batch_rows=min(plan.batch_rows, rows))

    @classmethod
    def quick(cls) -> EventsPlan:
        return cls(
            rows=20_000, batch_rows=5_000, block=5_000, repeats=10, warmup=1,
            budget_s=10.0, concurrent_rate=2_000,
        )  # fmt: skip


def samples(world: World, count: int) -> list[Params]:
    """Parameters for each repetition: viewers and films spread over the world."""
    since, until = (REFERENCE - timedelta(days=30)).date(), REFERENCE.date()
    users, films = world.users, world.films
    return [
        Params(users[(i * 7919) % len(users)], films[(i * 104_729) % len(films)], since, until)
        for i in range(count)
    ]


async def _rate(
    progress: Progress, label: str, work: Callable[[int, int], Any], total: int, size: int
) -> dict[str, float]:
    task = progress.add_task(label, total=total)
    spent = 0.0
    for first, end in chunks(0, total, size):
        spent += await work(first, end)
        progress.advance(task, end - first)
    progress.remove_task(task)
    return {"rows": total, "seconds": round(spent, 2), "rows_per_s": round(total / spent)}


async def _timed(store_call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    await store_call()
    return time.perf_counter() - started


async def inserts(
    store: EventStore, world: World, plan: EventsPlan, progress: Progress
) -> dict[str, Any]:
    """(1) and (2): the seed's way on a live table, then the fast path, timed."""
    await store.prepare()

    async def seed_way(first: int, end: int) -> float:
        block = rows(world, first, end)  # made outside the timing
        return await _timed(lambda: store.insert(block))

    seed = await _rate(
        progress, f"{store.name}: INSERTs of 1,000", seed_way, plan.batch_rows, SEED_BATCH
    )
    await store.prepare(bulk=True)

    async def fast(first: int, end: int) -> float:
        block = rows(world, first, end)
        return await _timed(lambda: store.load(block))

    loaded = await _rate(progress, f"{store.name}: bulk load", fast, plan.rows, plan.block)
    finishing = await _timed(store.loaded)
    total = loaded["seconds"] + finishing
    return {
        "batches_of_1000": seed,
        "fast_path": {**loaded, "then_s": round(finishing, 2),
                      "rows_per_s_overall": round(plan.rows / total)},
    }  # fmt: skip


async def under_inserts(
    store: EventStore,
    world: World,
    params: Sequence[Params],
    plan: EventsPlan,
    progress: Progress,
) -> dict[str, Any]:
    """(5): the queries while another connection inserts at a steady rate."""
    writer = await store.another()
    tick_s, per_tick = 0.1, max(1, plan.concurrent_rate // 10)
    inserted = 0
    stop = asyncio.Event()

    async def insert_steadily() -> None:
        nonlocal inserted
        next_at = time.perf_counter()
        while not stop.is_set():
            first = plan.rows + inserted
            await writer.load(rows(world, first, first + per_tick))
            inserted += per_tick
            next_at += tick_s
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

    started = time.perf_counter()
    inserter = asyncio.create_task(insert_steadily())
    try:
        found = await time_queries(store, QUERIES, params, plan, progress, "queries under inserts")
    finally:
        stop.set()
        await inserter
        if writer is not store:
            await writer.close()
    elapsed = time.perf_counter() - started
    return {
        "target_rows_per_s": plan.concurrent_rate,
        "achieved_rows_per_s": round(inserted / elapsed),
        "queries": found,
    }


async def study(
    stores: Sequence[EventStore], plan: EventsPlan, progress: Progress
) -> dict[str, Any]:
    world = World.for_rows(plan.rows, plan.seed)
    params = samples(world, plan.repeats + plan.warmup)
    engines: dict[str, Any] = {}
    answers: dict[str, dict[str, Any]] = {}
    for store in stores:
        done = {"design": store.design, "server": await store.describe()}
        done["inserts"] = await inserts(store, world, plan, progress)
        answers[store.name] = {q: await store.ask(q, params[0]) for q in QUERIES}
        done["queries"] = await time_queries(store, QUERIES, params, plan, progress)
        done["under_inserts"] = await under_inserts(store, world, params, plan, progress)
        engines[store.name] = done
    return {
        "study": "events",
        "plan": asdict(plan),
        "data": {"rows": plan.rows, "viewers": len(world.users), "films": len(world.films),
                 "sessions": plan.rows // 100, "reference_day": REFERENCE.date().isoformat()},
        "engines": engines,
        "answers": answers,
        "agree": agreement(answers, QUERIES),
    }  # fmt: skip
