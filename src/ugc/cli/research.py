"""`ugc research`: the storage study, re-run on this machine (docs/research)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ugc.cli.app import app, console, settings_of

RESULTS = Path("docs/research/results")
research_app = typer.Typer(
    no_args_is_help=True,
    help="The storage study: the same data in each store, timed; `render` writes the report.",
)
app.add_typer(research_app, name="research")

Quick = Annotated[
    bool, typer.Option(help="Small volumes and few repetitions: seconds, for tests and a look")
]
Out = Annotated[
    Path | None,
    typer.Option(help="Where the results go (default: docs/research/results; with --quick, "
                 "the data dir, so a look never replaces the published figures)"),
]  # fmt: skip
DataDir = Annotated[Path | None, typer.Option(help="Where embedded stores keep their files")]
PostgresUrl = Annotated[
    str | None,
    typer.Option(help="A PostgreSQL server; the study makes and drops a database of its own"),
]


def _needs_extra(*modules: str) -> None:
    """A clear word, not a traceback, where the research extra is not installed."""
    from importlib.util import find_spec  # noqa: PLC0415

    missing = [m for m in modules if find_spec(m) is None]
    if missing:
        console.print(
            f"[red]`ugc research` needs {', '.join(missing)}: pip install 'ugc[research]' "
            "(make install does)[/red]"
        )
        raise typer.Exit(2)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console,
    )  # fmt: skip


def _run(
    name: str,
    out: Path | None,
    quick: bool,
    data_dir: Path | None,
    work: Callable[[Path, Progress], Coroutine[Any, Any, dict[str, Any]]],
) -> None:
    _needs_extra("psycopg", "psycopg_pool", "duckdb", "pyarrow")
    from ugc.research.machine import machine  # noqa: PLC0415

    base = settings_of(data_dir=data_dir).data_dir / "research"
    base.mkdir(parents=True, exist_ok=True)
    target = out or (base if quick else RESULTS)
    with _progress() as progress:
        found: dict[str, Any] = asyncio.run(work(base, progress))
    found["machine"] = machine(base)
    found["measured_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{name}.json"
    path.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n")
    disagree = [query for query, same in found["agree"].items() if not same]
    console.print(f"results: {path}")
    if disagree:
        console.print(f"[red]the stores disagree on: {', '.join(disagree)}[/red]")
        raise typer.Exit(1)
    console.print("every store gave the same answer to every query")


@research_app.command("events")
def events(
    rows: Annotated[
        int | None, typer.Option(help="Events to load (the seed's 10,000,000)", min=1)
    ] = None,
    clickhouse_url: Annotated[
        str | None, typer.Option(help="A ClickHouse server (default: embedded chdb)")
    ] = None,
    postgres_url: PostgresUrl = None,
    data_dir: DataDir = None,
    quick: Quick = False,
    out: Out = None,
) -> None:
    """Events in ClickHouse, PostgreSQL and DuckDB: inserts, the seed's queries and
    the project's analytics, alone and while inserts go on."""
    from ugc.research.events import research_events  # noqa: PLC0415
    from ugc.research.events.study import EventsPlan  # noqa: PLC0415

    plan = EventsPlan.sized(quick=quick, rows=rows)
    _run("events", out, quick, data_dir, lambda base, progress: research_events(
        base, progress, plan, clickhouse_url=clickhouse_url, postgres_url=postgres_url
    ))  # fmt: skip


@research_app.command("content")
def content(
    docs: Annotated[
        int | None, typer.Option(help="Ratings, reviews and bookmarks each (1,000,000)", min=1)
    ] = None,
    mongo_url: Annotated[
        str | None,
        typer.Option(help="A MongoDB server (default: the local MongoDB-protocol server)"),
    ] = None,
    postgres_url: PostgresUrl = None,
    data_dir: DataDir = None,
    quick: Quick = False,
    out: Out = None,
) -> None:
    """Ratings, reviews with votes and bookmarks on MongoDB (the project's stores)
    and PostgreSQL: the seed's queries, review pages, read-your-write, a mixed load."""
    from ugc.research.content import research_content  # noqa: PLC0415
    from ugc.research.content.study import ContentPlan  # noqa: PLC0415

    plan = ContentPlan.sized(quick=quick, docs=docs)
    _run("content", out, quick, data_dir, lambda base, progress: research_content(
        base, progress, plan, mongo_url=mongo_url, postgres_url=postgres_url
    ))  # fmt: skip


@research_app.command("render")
def render(
    results: Annotated[Path, typer.Option(help="Where the results are")] = RESULTS,
    out: Annotated[Path, typer.Option(help="Where README.md and plots/ go")] = RESULTS.parent,
) -> None:
    """docs/research/README.md and its plots, from the results alone."""
    _needs_extra("matplotlib")
    from ugc.research.report import render as write_report  # noqa: PLC0415

    write_report(results, out)
    console.print(f"report: {out / 'README.md'}")
