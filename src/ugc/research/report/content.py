"""The content part of the report: the load, the queries, read-your-write and
the mixed load."""

from __future__ import annotations

from typing import Any

from ugc.research.content.store import QUERIES
from ugc.research.report import seed
from ugc.research.report.text import count, ms, ratio, seconds, table


def load(results: dict[str, Any]) -> str:
    rows = [
        [name, count(e["load"]["documents"]), seconds(e["load"]["seconds"]),
         count(e["load"]["documents_per_s"])]
        for name, e in results["engines"].items()
    ]  # fmt: skip
    return table(["", "documents", "took", "documents/s"], rows)


def queries(results: dict[str, Any]) -> str:
    names = list(results["engines"])
    header = ["query", *(f"{n} p50 / p99 (mean)" for n in names)]
    header += [f"seed: {s} (mean)" for s in seed.CONTENT_SYSTEMS]
    rows = []
    for query in QUERIES:
        cells = [query]
        for name in names:
            t = results["engines"][name]["queries"][query]
            cells.append(f"{ms(t['p50_ms'])} / {ms(t['p99_ms'])} ({ms(t['mean_ms'])})")
        published = seed.CONTENT_QUERIES_MS.get(query)
        cells += [ms(v) for v in published] if published else ["-", "-"]
        rows.append(cells)
    t = {n: e["read_your_write"] for n, e in results["engines"].items()}
    rows.append([
        "a rating written, then read back",
        *(f"{ms(t[n]['p50_ms'])} / {ms(t[n]['p99_ms'])} ({ms(t[n]['mean_ms'])})" for n in names),
        "-", "-",
    ])  # fmt: skip
    return table(header, rows)


def mixed(results: dict[str, Any]) -> str:
    rows = []
    for name, e in results["engines"].items():
        m = e["mixed"]
        errors = sum(m["errors"].values())
        exact = m["counters_exact"]
        rows.append([
            name, count(m["operations_per_s"]),
            f"{ms(m['reads']['p50_ms'])} / {ms(m['reads']['p99_ms'])}",
            f"{ms(m['writes']['p50_ms'])} / {ms(m['writes']['p99_ms'])}",
            count(errors), f"{exact['films_checked'] - exact['wrong']} of {exact['films_checked']}",
        ])  # fmt: skip
    return table(
        ["", "operations/s", "reads p50 / p99 (ms)", "writes p50 / p99 (ms)", "errors",
         "films whose counters equal their ratings"],
        rows,
    )  # fmt: skip


def _slowest_p99(engine: dict[str, Any]) -> tuple[str, float]:
    query = max(QUERIES, key=lambda q: engine["queries"][q]["p99_ms"])
    return query, float(engine["queries"][query]["p99_ms"])


def _within(value: float, rule: float) -> str:
    return "within" if value <= rule else f"{ratio(value / rule)} over"


def meets_rule(engine: dict[str, Any]) -> bool:
    """The seed's rule: every read within READ_RULE_MS at p99, alone and under load."""
    rule = seed.READ_RULE_MS
    return _slowest_p99(engine)[1] <= rule and engine["mixed"]["reads"]["p99_ms"] <= rule


def findings(results: dict[str, Any]) -> list[str]:
    """What the content figures say, each sentence computed from them."""
    engines = results["engines"]
    rule = seed.READ_RULE_MS
    lines = []
    for name, engine in engines.items():
        query, worst = _slowest_p99(engine)
        loaded = engine["mixed"]["reads"]["p99_ms"]
        verdict = "meets" if meets_rule(engine) else "does not meet"
        lines.append(
            f"{name} {verdict} the seed's rule (reads within {rule:.0f} ms): its slowest read "
            f"alone, {query}, takes {ms(worst)} ms at p99 ({_within(worst, rule)}); under the "
            f"mixed load its reads take {ms(loaded)} ms at p99 ({_within(loaded, rule)})."
        )
    if {"MongoDB", "PostgreSQL"} <= set(engines):
        mongo, pg = engines["MongoDB"], engines["PostgreSQL"]
        faster = [q for q in QUERIES if pg["queries"][q]["p50_ms"] < mongo["queries"][q]["p50_ms"]]
        lines.append(
            f"PostgreSQL is faster at p50 on {len(faster)} of {len(QUERIES)} reads; under the "
            "mixed load it served "
            + ratio(pg["mixed"]["operations_per_s"] / mongo["mixed"]["operations_per_s"])
            + " MongoDB's operations per second."
        )  # fmt: skip
    missed = {n: e["read_your_write"]["not_read_back"] for n, e in engines.items()}
    wrong = {n: e["mixed"]["counters_exact"]["wrong"] for n, e in engines.items()}
    lines.append(
        "Read-your-write misses: " + ", ".join(f"{n} {v}" for n, v in missed.items())
        + "; films whose counters did not equal their ratings after the mixed load: "
        + ", ".join(f"{n} {v}" for n, v in wrong.items()) + "."
    )  # fmt: skip
    return lines


def verdict(results: dict[str, Any]) -> str:
    """Whether the seed's choice holds, by the seed's own rule."""
    engines = list(results["engines"])
    meeting = [n for n in engines if meets_rule(results["engines"][n])]
    rule = f"the seed's rule (reads within {seed.READ_RULE_MS:.0f} ms, alone and under load)"
    if set(meeting) == set(engines):
        return (
            "**MongoDB for content: the seed's reason does not decide it.** Every store "
            f"meets {rule} at these volumes, so the rule cannot choose between them; the "
            "choice rests on what it does not measure: the document model the stores are "
            "written for, and a real mongod's figures, which this machine cannot give."
        )
    if "MongoDB" in meeting:
        return f"**MongoDB for content: holds.** Only MongoDB meets {rule} here."
    if meeting:
        return (
            f"**MongoDB for content: not supported by these figures.** {', '.join(meeting)} "
            f"meets {rule} and MongoDB does not. That verdict is on the local "
            "MongoDB-protocol server, a Python server; before the project moves, the same "
            "command against a mongod replica set (`--mongo-url`) has to confirm it."
        )
    return f"**MongoDB for content: undecided.** No store meets {rule} here."
