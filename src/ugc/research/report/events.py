"""The events part of the report: inserts, queries alone and under inserts."""

from __future__ import annotations

import statistics
from typing import Any

from ugc.research.events.store import OUR_QUERIES, QUERIES, SEED_QUERIES
from ugc.research.report import seed
from ugc.research.report.text import count, ms, ratio, table


def _engines(results: dict[str, Any]) -> list[str]:
    return list(results["engines"])


def inserts(results: dict[str, Any]) -> str:
    rows = []
    for name, engine in results["engines"].items():
        done = engine["inserts"]
        fast = done["fast_path"]
        rows.append([
            name, count(done["batches_of_1000"]["rows_per_s"]), count(fast["rows_per_s"]),
            f"{fast['then_s']:,.1f}", count(fast["rows_per_s_overall"]),
        ])  # fmt: skip
    for system, took in seed.EVENTS_INSERT_S.items():
        rows.append([f"seed: {system}", count(10_000_000 / took), "-", "-", "-"])
    return table(
        ["", "INSERTs of 1,000 (rows/s)", "fast path (rows/s)", "then (s)", "overall (rows/s)"],
        rows,
    )


def queries(results: dict[str, Any], phase: str = "queries") -> str:
    names = _engines(results)
    header = ["query", *(f"{n} p50 / p95 / p99" for n in names)]
    if phase == "queries":
        header += [f"seed: {s}" for s in seed.EVENTS_SYSTEMS]
    rows = []
    for query in QUERIES:
        cells = [query]
        for name in names:
            engine = results["engines"][name]
            found = engine[phase] if phase == "queries" else engine[phase]["queries"]
            t = found[query]
            cells.append(f"{ms(t['p50_ms'])} / {ms(t['p95_ms'])} / {ms(t['p99_ms'])}")
        if phase == "queries":
            published = seed.EVENTS_QUERIES.get(query)
            cells += [f"{v:g} ({published[2]})" for v in published[:2]] if published else ["-", "-"]
        rows.append(cells)
    return table(header, rows)


def rates_under_inserts(results: dict[str, Any]) -> str:
    rows = [
        [name, count(e["under_inserts"]["target_rows_per_s"]),
         count(e["under_inserts"]["achieved_rows_per_s"]), ratio(slowdown(results, name))]
        for name, e in results["engines"].items()
    ]  # fmt: skip
    return table(
        ["", "target (rows/s)", "achieved (rows/s)", "p99 under inserts / alone (median)"], rows
    )


def slowdown(results: dict[str, Any], name: str) -> float:
    engine = results["engines"][name]
    growth = [
        float(engine["under_inserts"]["queries"][q]["p99_ms"]) / engine["queries"][q]["p99_ms"]
        for q in QUERIES
    ]
    return float(statistics.median(growth))


def fastest(results: dict[str, Any], query: str, phase: str = "queries") -> str:
    def p50(name: str) -> float:
        engine = results["engines"][name]
        found = engine[phase] if phase == "queries" else engine[phase]["queries"]
        return float(found[query]["p50_ms"])

    return min(_engines(results), key=p50)


def worst_p99(results: dict[str, Any], name: str, phase: str = "queries") -> tuple[str, float]:
    """The engine's slowest analytics query the API serves, and its p99."""
    engine = results["engines"][name]
    found = engine[phase] if phase == "queries" else engine[phase]["queries"]
    query = max(OUR_QUERIES, key=lambda q: found[q]["p99_ms"])
    return query, float(found[query]["p99_ms"])


def findings(results: dict[str, Any]) -> list[str]:
    """What the events figures say, each sentence computed from them."""
    engines = results["engines"]
    lines = []
    for group, label in ((OUR_QUERIES, "the project's analytics"), (SEED_QUERIES, "the seed's")):
        wins = [fastest(results, q) for q in group]
        tally = ", ".join(f"{n} {wins.count(n)}" for n in _engines(results) if wins.count(n))
        lines.append(f"Fastest at p50 on {label} queries ({len(group)}): {tally}.")
    slowest = []
    for name in engines:
        query, alone = worst_p99(results, name)
        _, loaded = worst_p99(results, name, "under_inserts")
        slowest.append(f"{name} {ms(alone)} ms on {query}, {ms(loaded)} ms under inserts")
    lines.append("The slowest analytics query at p99: " + "; ".join(slowest) + ".")
    if "ClickHouse" in engines and "PostgreSQL" in engines:
        ch, pg = engines["ClickHouse"]["queries"], engines["PostgreSQL"]["queries"]
        heavy = ", ".join(f"{q} {ratio(pg[q]['p50_ms'] / ch[q]['p50_ms'])}" for q in OUR_QUERIES)
        lines.append(
            "PostgreSQL's p50 over ClickHouse's, per analytics query: " + heavy
            + " (above 1x, ClickHouse is faster; below, PostgreSQL's indexes win)."
        )  # fmt: skip
    seed_way = {n: e["inserts"]["batches_of_1000"]["rows_per_s"] for n, e in engines.items()}
    published = ", ".join(f"{s} {count(10_000_000 / t)}" for s, t in seed.EVENTS_INSERT_S.items())
    lines.append(
        "In INSERTs of 1,000 rows (the seed's way): "
        + ", ".join(f"{n} {count(v)}" for n, v in seed_way.items())
        + f" rows/s; the seed published {published}."
    )  # fmt: skip
    fast = {n: e["inserts"]["fast_path"]["rows_per_s_overall"] for n, e in engines.items()}
    lines.append(
        "By each engine's fast path, indexes and merges included: "
        + ", ".join(f"{n} {count(v)}" for n, v in fast.items()) + " rows/s."
    )  # fmt: skip
    steady = ", ".join(f"{n} {ratio(slowdown(results, n))}" for n in engines)
    lines.append(f"Under steady inserts, the median p99 grew by: {steady}.")
    return lines


def verdict(results: dict[str, Any]) -> str:
    """Whether the seed's choice holds: the engine whose slowest analytics query is
    fastest is the one the API can be served from."""
    worst = {name: worst_p99(results, name) for name in _engines(results)}
    best = min(worst, key=lambda n: worst[n][1])
    others = " and ".join(f"{ms(w)} ms on {n}" for n, (_, w) in worst.items() if n != best)
    query, value = worst[best]
    head = "holds" if best == "ClickHouse" else f"not supported here: {best} serves it better"
    return (
        f"**ClickHouse for events: {head}.** On {best}, every analytics query the API "
        f"serves answers within {ms(value)} ms at p99 (the slowest: {query}); the slowest "
        f"takes {others}. The queries that scan a period's events decide; lookups an index "
        "serves (a film's stats, a viewer's resume points) are fast anywhere."
    )
