"""`ugc research render`: docs/research/README.md and its plots, from the results
alone, the same text every time for the same results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ugc.research.report import content, events
from ugc.research.report.plots import content_plots, events_plots
from ugc.research.report.text import table

HEAD = """# Storage research

> Written by `ugc research render` from [`results/`](results/), which `ugc research
> events` and `ugc research content` measured (`make research` runs all three).
> Do not edit it: measure again and render.

The seed chose ClickHouse for events (against Vertica) and MongoDB for ratings,
reviews and bookmarks (against PostgreSQL, on the rule "reads within 200 ms"). Its
figures cannot be trusted: the compared systems held different volumes, the
filtered fields had no index, a column in seconds was labelled milliseconds, and
the "realtime" Vertica run crashed after its first batch. This study redoes it on
the code that runs: the warehouse's own schema and analytics queries, the content
API's own stores, with the same generated data in every store, and checks that
every store gives the same answer to every query before it compares their times.

## Run it again

```sh
make research                         # both studies at the seed's volumes, then this report
.venv/bin/ugc research events --quick # seconds: a first look (results under .ugc/research)
.venv/bin/ugc research content --docs 100000 --mongo-url mongodb://... --postgres-url postgresql://...
.venv/bin/ugc research render         # this page and plots/, from results/
```

`events --rows N` (10,000,000 by default), `--clickhouse-url` (a server instead
of embedded chdb), `--postgres-url` (the study makes and drops a database of its
own); `content --docs N` (1,000,000 each of ratings, reviews and bookmarks),
`--mongo-url` (a MongoDB server instead of the local MongoDB-protocol server).
Every query is warmed up, then repeated (100 times, fewer only where the
repetitions took longer than the plan's budget: the tables give n).
"""

CAVEATS = """### What they do not say

- **The local MongoDB-protocol server is not mongod.** SecantusDB is a Python
  server over WiredTiger; every MongoDB figure here is a lower bound of what
  mongod would do on the same hardware, and the gap is not measured. PostgreSQL
  and ClickHouse (chdb) are the engines' own native code. Run `ugc research
  content --mongo-url` against a real replica set before taking MongoDB's
  figures as MongoDB's.
- **One shared 2-core machine**, for every store and the client that times it:
  the figures compare stores on the same box, they are not capacity figures.
  Each was measured once; repeat a run before you trust a difference under 1.5x.
- **Vertica is not available here**, so the seed's ClickHouse-against-Vertica
  question is not re-asked; PostgreSQL and DuckDB stand in as the row store and
  the other column store a team would consider.
- PostgreSQL runs with Debian's default settings (the table of settings above);
  tuned memory would help its scans. ClickHouse is embedded chdb, not a server
  with its own cores: a server adds a network hop and removes the GIL.
- The timing clients run in one Python process with their driver, on the same
  cores as the server: a client's own CPU is part of every figure, and pymongo
  (pure Python) costs its client more than psycopg (C) does.
- One node per store: no sharding, no replica set, and every working set fits
  in memory.
"""


def _machine(results: dict[str, dict[str, Any]]) -> str:
    rows = []
    for study, found in results.items():
        m = found["machine"]
        disk = m["disk"]
        rows.append([
            study, found.get("measured_at", "-"), m["cpu"], f"{m['cores_usable']} of {m['cores']}",
            f"{m['memory_gib']} GiB", f"{disk['filesystem']}, {disk['free_gib']} GiB free",
            m["os"], m["python"],
        ])  # fmt: skip
    return table(["study", "measured", "CPU", "cores", "memory", "disk", "OS", "Python"], rows,
                 right_from=99)  # fmt: skip


def _servers(found: dict[str, Any]) -> str:
    lines = []
    for name, engine in found["engines"].items():
        server = engine["server"]
        where = server.get("where") or server.get("server")
        lines.append(f"- **{name}** ({where}, {server.get('version')}): {engine['design']}.")
        settings = engine["server"].get("settings")
        if settings:
            lines.append(
                "  Settings: " + ", ".join(f"`{k}={v}`" for k, v in sorted(settings.items())) + "."
            )
    return "\n".join(lines)


def _agreement(found: dict[str, Any]) -> str:
    differ = [q for q, same in found["agree"].items() if not same]
    if not differ:
        return "Every store gave the same answer to every query (checked before timing)."
    return "**The stores disagreed on:** " + ", ".join(differ) + "."


def _events(found: dict[str, Any], plots: list[str]) -> str:
    d = found["data"]
    return "\n\n".join([
        "## Events: ClickHouse, PostgreSQL, DuckDB",
        f"{d['rows']:,} events: {d['sessions']:,} viewing sessions of {d['viewers']:,} viewers "
        f"over {d['films']:,} films (popular films more often), 30 days up to "
        f"{d['reference_day']}, as players send them (`play`, a beat every 30 s, pauses, "
        "`stop` or `end`). How each engine holds them:",
        _servers(found),
        "### Inserts",
        f"{found['plan']['batch_rows']:,} rows in INSERTs of 1,000 into a live table (the "
        "seed's way), then all rows by the engine's fast path into an empty one (ClickHouse: "
        f"JSONEachRow blocks of {found['plan']['block']:,}, as the loader sends them; "
        "PostgreSQL: binary COPY; DuckDB: Arrow); \"then\" is what the engine does before "
        "serving (indexes, ANALYZE, merges). The seed's rates are its 10,000,000 rows "
        "over its published seconds.",
        events.inserts(found),
        f"![insert rates](plots/{plots[2]})",
        "### Queries",
        "Milliseconds. The seed's five queries, then the project's analytics "
        "(`ugc.analytics.queries`: a film's stats and the top films over 30 days, a "
        "viewer's resume points); the seed's columns are as it published them.",
        events.queries(found),
        f"![latency per query](plots/{plots[0]})",
        "### Queries while inserts go on",
        "The same queries while another connection inserts at a steady rate (the "
        "seed's \"realtime\" case, which crashed for Vertica).",
        events.rates_under_inserts(found),
        events.queries(found, "under_inserts"),
        f"![latency under inserts](plots/{plots[1]})",
        _agreement(found),
    ])  # fmt: skip


def _content(found: dict[str, Any], plots: list[str]) -> str:
    d = found["data"]
    return "\n\n".join([
        "## Content: MongoDB, PostgreSQL",
        f"{d['ratings']:,} ratings, {d['reviews']:,} reviews with {d['votes']:,} votes and "
        f"{d['bookmarks']:,} bookmarks, by {d['viewers']:,} viewers over {d['films']:,} films "
        "(popular films and reviews get more). MongoDB is read and written through the "
        "content API's own stores (`ugc.content.store`); PostgreSQL through a repository "
        "written for the study (`ugc.research.content.postgres`) with the same operations, "
        "counters and transactions:",
        _servers(found),
        "### Load",
        content.load(found),
        "### Queries",
        "Milliseconds. Pages are the API's (20 items, with the listing's total and whether "
        "more follow); \"ratings of a film\" counts them by score from the ratings, "
        "\"average rating\" is the summary the API serves (kept in step by every rating's "
        "transaction). The seed's columns are its means.",
        content.queries(found),
        f"![latency per query](plots/{plots[0]})",
        "### Mixed load",
        f"{found['plan']['clients']} clients at once for {found['plan']['mixed_s']:g} s, "
        f"{found['plan']['read_share']:.0%} reads (the queries above at random) and the rest "
        "writes (a rating, a vote, a bookmark, each in its transaction with its counters).",
        content.mixed(found),
        f"![mixed load](plots/{plots[1]})",
        _agreement(found),
    ])  # fmt: skip


def _verdicts(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    if "events" in results:
        lines.append(events.verdict(results["events"]))
    if "content" in results:
        lines.append(content.verdict(results["content"]))
    return lines


def render(results_dir: Path, out_dir: Path) -> str:
    """The report from results_dir/*.json into out_dir (README.md, plots/); its text."""
    results = {
        name: json.loads((results_dir / f"{name}.json").read_text())
        for name in ("events", "content")
        if (results_dir / f"{name}.json").exists()
    }
    plots_dir = out_dir / "plots"
    plots_dir.mkdir(parents=True, exist_ok=True)
    parts = [HEAD, "## The machine", _machine(results)]
    findings: list[str] = []
    if "events" in results:
        parts.append(_events(results["events"], events_plots(results["events"], plots_dir)))
        findings += events.findings(results["events"])
    if "content" in results:
        parts.append(_content(results["content"], content_plots(results["content"], plots_dir)))
        findings += content.findings(results["content"])
    parts += ["## Conclusions", "### What the numbers say", "\n".join(f"- {f}" for f in findings)]
    parts += [CAVEATS.strip(), "### Do the seed's choices hold?", "\n\n".join(_verdicts(results))]
    text = "\n\n".join(p.strip() for p in parts) + "\n"
    (out_dir / "README.md").write_text(text)
    return text
