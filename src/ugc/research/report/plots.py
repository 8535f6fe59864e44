"""The report's plots (matplotlib, PNG): latency per query and store, insert
rates, latency under concurrent inserts, the mixed load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ugc.research.content.store import QUERIES as CONTENT_QUERIES
from ugc.research.events.store import QUERIES as EVENT_QUERIES


def _pyplot() -> Any:
    import matplotlib  # noqa: PLC0415 - the research extra

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def _bars(
    path: Path, title: str, labels: list[str], series: dict[str, list[float]], unit: str,
    *, errors: dict[str, list[float]] | None = None, log: bool = True,
) -> None:  # fmt: skip
    """Horizontal bars, one group per label, one bar per series; `errors` the
    upper whisker (p99 above p50)."""
    plt = _pyplot()
    height = 0.8 / max(1, len(series))
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(labels) * max(1, len(series)) / 2 + 1.6))
    for i, (name, values) in enumerate(series.items()):
        ys = [row + i * height for row in range(len(labels))]
        upper = [[0] * len(values), errors[name]] if errors else None
        ax.barh(ys, values, height, label=name, xerr=upper, capsize=2)
    ax.set_yticks([row + height * (len(series) - 1) / 2 for row in range(len(labels))])
    ax.set_yticklabels(labels)
    ax.invert_yaxis()
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(unit)
    ax.set_title(title)
    ax.legend(loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def _latency(engines: dict[str, Any], queries: tuple[str, ...], phase: str) -> tuple[
    dict[str, list[float]], dict[str, list[float]]
]:  # fmt: skip
    p50, whisker = {}, {}
    for name, engine in engines.items():
        found = engine[phase]["queries"] if phase == "under_inserts" else engine[phase]
        p50[name] = [found[q]["p50_ms"] for q in queries]
        whisker[name] = [max(0.0, found[q]["p99_ms"] - found[q]["p50_ms"]) for q in queries]
    return p50, whisker


def events_plots(results: dict[str, Any], out: Path) -> list[str]:
    engines = results["engines"]
    names = []
    for phase, file, title in (
        ("queries", "events-queries.png", "Events: latency per query (p50, whisker to p99)"),
        ("under_inserts", "events-under-inserts.png",
         "Events: latency while inserts go on (p50, whisker to p99)"),
    ):  # fmt: skip
        p50, whisker = _latency(engines, EVENT_QUERIES, phase)
        _bars(out / file, title, list(EVENT_QUERIES), p50, "ms (log)", errors=whisker)
        names.append(file)
    rates = {
        name: [e["inserts"]["batches_of_1000"]["rows_per_s"],
               e["inserts"]["fast_path"]["rows_per_s_overall"]]
        for name, e in engines.items()
    }  # fmt: skip
    _bars(out / "events-inserts.png", "Events: insert rates",
          ["INSERTs of 1,000 rows", "the engine's fast path"], rates, "rows/s (log)")  # fmt: skip
    return [*names, "events-inserts.png"]


def content_plots(results: dict[str, Any], out: Path) -> list[str]:
    engines = results["engines"]
    p50, whisker = _latency(engines, CONTENT_QUERIES, "queries")
    _bars(out / "content-queries.png", "Content: latency per query (p50, whisker to p99)",
          list(CONTENT_QUERIES), p50, "ms (log)", errors=whisker)  # fmt: skip
    mixed = {
        name: [e["mixed"]["reads"]["p50_ms"], e["mixed"]["writes"]["p50_ms"]]
        for name, e in engines.items()
    }
    tails = {
        name: [e["mixed"]["reads"]["p99_ms"] - e["mixed"]["reads"]["p50_ms"],
               e["mixed"]["writes"]["p99_ms"] - e["mixed"]["writes"]["p50_ms"]]
        for name, e in engines.items()
    }  # fmt: skip
    clients = next(iter(engines.values()))["mixed"]["clients"]
    _bars(out / "content-mixed.png",
          f"Content: {clients} clients, 90% reads (p50, whisker to p99)",
          ["reads", "writes"], mixed, "ms (log)", errors=tails)  # fmt: skip
    return ["content-queries.png", "content-mixed.png"]
