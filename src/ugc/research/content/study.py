"""`ugc research content`: ratings, reviews with votes and bookmarks on MongoDB
(through the project's stores) and PostgreSQL (a repository of the same
operations); the seed's four queries, the review pages, read-your-write, and a
mixed load of many clients.

For each store in turn: (1) the content loaded the store's fast way; (2) every
query asked with the same parameters, the answers kept (the stores must agree);
(3) every query timed; (4) a rating written then read back, timed; (5) the mixed
load: `clients` at once for `mixed_s`, 90% reads and 10% writes; then the
counters of the films rated during it checked against their ratings.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from rich.progress import Progress

from ugc.research.answers import agreement
from ugc.research.content.data import Content, generate
from ugc.research.content.store import QUERIES, WRITES, ContentStore, Params, Write
from ugc.research.timing import Timing, repeat, time_queries

SAMPLES = 5  # parameter sets every store must agree on


@dataclass(frozen=True)
class ContentPlan:
    docs: int = 1_000_000
    repeats: int = 100
    warmup: int = 5
    budget_s: float = 30.0
    clients: int = 32
    mixed_s: float = 30.0
    read_share: float = 0.9
    seed: int = 2026

    @classmethod
    def sized(cls, *, quick: bool, docs: int | None) -> ContentPlan:
        plan = cls.quick() if quick else cls()
        return plan if docs is None else replace(plan, docs=docs)

    @classmethod
    def quick(cls) -> ContentPlan:
        return cls(docs=3_000, repeats=10, warmup=1, budget_s=10.0, mixed_s=3.0)


def samples(content: Content, count: int) -> list[Params]:
    users, films = content.users, content.films
    return [
        Params(users[(i * 7919) % len(users)], films[(i * 104_729) % len(films)])
        for i in range(count)
    ]


async def read_your_write(
    store: ContentStore, content: Content, plan: ContentPlan
) -> dict[str, Any]:
    """A new viewer rates a film, then reads their ratings: the rating is there."""
    missed = 0

    async def write_then_read(i: int) -> None:
        nonlocal missed
        user, film = f"{store.name.lower()}-newcomer-{i}", content.films[i % len(content.films)]
        await store.write(Write("rate a film", user, film, value=i % 11))
        mine = await store.ask("liked films of a user", Params(user, film))
        if mine["items"] != [[str(film), i % 11]] or mine["total"] != 1:
            missed += 1

    timing = await repeat(
        write_then_read, repeats=plan.repeats, warmup=plan.warmup, budget_s=plan.budget_s
    )
    return {**timing.as_dict(), "not_read_back": missed}


def _change(rng: random.Random, content: Content) -> Write:
    kind = rng.choice(WRITES)
    user, film = rng.choice(content.users), rng.choice(content.films)
    if kind == "vote on a review":
        author, reviewed, _ = content.reviews[rng.randrange(len(content.reviews))]
        return Write(kind, user, reviewed, author=author, value=rng.choice((1, -1)))
    return Write(kind, user, film, value=rng.randint(0, 10))


async def mixed(store: ContentStore, content: Content, plan: ContentPlan) -> dict[str, Any]:
    """`clients` at once, each reading or writing at random, for `mixed_s`."""
    reads: list[float] = []
    writes: list[float] = []
    errors: dict[str, int] = {}
    rated: set[uuid.UUID] = set()
    stop_at = time.perf_counter() + plan.mixed_s

    async def client(number: int) -> None:
        rng = random.Random(plan.seed * 7 + number)
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                if rng.random() < plan.read_share:
                    params = Params(rng.choice(content.users), rng.choice(content.films))
                    await store.ask(rng.choice(QUERIES), params)
                    reads.append(time.perf_counter() - started)
                else:
                    change = _change(rng, content)
                    await store.write(change)
                    writes.append(time.perf_counter() - started)
                    if change.kind == "rate a film":
                        rated.add(change.film)
            except Exception as exc:  # noqa: BLE001 - counted and reported, the load goes on
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(plan.clients)))
    elapsed = time.perf_counter() - started
    return {
        "clients": plan.clients,
        "seconds": round(elapsed, 1),
        "operations_per_s": round((len(reads) + len(writes)) / elapsed, 1),
        "reads": Timing.of(reads).as_dict(),
        "writes": Timing.of(writes).as_dict(),
        "errors": errors,
        "counters_exact": await _counters_exact(store, content, sorted(rated, key=str)[:100]),
    }


async def _counters_exact(
    store: ContentStore, content: Content, films: Sequence[uuid.UUID]
) -> dict[str, Any]:
    """For films rated during the load: the summary's counts equal the ratings'."""
    wrong = 0
    for film in films:
        params = Params(content.users[0], film)
        counted = await store.ask("ratings of a film", params)
        summary = await store.ask("average rating of a film", params)
        if summary["distribution"] != counted or summary["count"] != sum(counted.values()):
            wrong += 1
    return {"films_checked": len(films), "wrong": wrong}


async def study(
    stores: Sequence[ContentStore], plan: ContentPlan, progress: Progress
) -> dict[str, Any]:
    content = generate(plan.docs, plan.seed)
    params = samples(content, plan.repeats + plan.warmup)
    engines: dict[str, Any] = {}
    answers: dict[str, dict[str, Any]] = {}
    for store in stores:
        done: dict[str, Any] = {"design": store.design, "server": await store.describe()}
        task = progress.add_task(f"{store.name}: load", total=content.documents)
        started = time.perf_counter()
        await store.load(content, lambda n, task=task: progress.advance(task, n))
        took = time.perf_counter() - started
        progress.remove_task(task)
        done["load"] = {"documents": content.documents, "seconds": round(took, 1),
                        "documents_per_s": round(content.documents / took)}  # fmt: skip
        answers[store.name] = {
            q: [await store.ask(q, p) for p in params[:SAMPLES]] for q in QUERIES
        }
        done["queries"] = await time_queries(store, QUERIES, params, plan, progress)
        done["read_your_write"] = await read_your_write(store, content, plan)
        done["mixed"] = await mixed(store, content, plan)
        engines[store.name] = done
    return {
        "study": "content",
        "plan": asdict(plan),
        "data": {"ratings": len(content.ratings), "reviews": len(content.reviews),
                 "votes": len(content.votes), "bookmarks": len(content.bookmarks),
                 "viewers": len(content.users), "films": len(content.films)},
        "engines": engines,
        "answers": answers,
        "agree": agreement(answers, QUERIES),
    }  # fmt: skip
