"""`ugc backup` and `ugc restore`: the content database and the warehouse, to a
folder and back, every count checked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ugc.cli.app import Refused, app, console, needs_servers, settings_of
from ugc.cli.processes import refuse_a_held_warehouse
from ugc.settings import Settings


@contextmanager
def _document_store(settings: Settings) -> Iterator[str]:
    """The MongoDB URL: the configured server's, or the local server of the data
    directory, started for the command (its `ugc dev` must be stopped)."""
    if settings.mongo.url:
        yield settings.mongo.url
        return
    from ugc.devstack.processes import free_port  # noqa: PLC0415
    from ugc.devstack.servers import LocalDocumentStore  # noqa: PLC0415

    data = settings.data_dir / "mongo"
    store = LocalDocumentStore(free_port(), data, settings.data_dir / "logs")
    store.start()
    try:
        yield store.url
    finally:
        store.stop()


def _counts(title: str, collections: dict[str, int], tables: dict[str, int]) -> Table:
    table = Table(title=title)
    for column in ("store", "name", "count"):
        table.add_column(column, justify="right" if column == "count" else "left")
    for store, counts in (("MongoDB", collections), ("ClickHouse", tables)):
        for name, count in counts.items():
            table.add_row(store, name, f"{count:,}")
    return table


@app.command()
def backup(
    to: Annotated[
        Path | None,
        typer.Option("--to", help="A new folder for the backup [default: ./backups/ugc-TIME]"),
    ] = None,
) -> None:
    """Back up the content database and the warehouse to a new folder, with a
    manifest of every count. With the local servers, stop `ugc dev` first."""
    from ugc.backup.archive import NotEmpty, back_up, name_now  # noqa: PLC0415

    settings = settings_of()
    needs_servers(settings, "mongo", "clickhouse")
    refuse_a_held_warehouse(settings, "back it up")
    folder = to or Path("backups") / name_now()
    try:
        with _document_store(settings) as mongo_url:
            made = back_up(settings, folder, mongo_url=mongo_url)
    except NotEmpty as exc:
        raise Refused(str(exc)) from None
    console.print(_counts(f"backed up to {folder}", made.collections, made.tables))
    console.print(f"ClickHouse: {made.clickhouse_destination}")
    if not made.mongo_point_in_time:
        console.print(
            "MongoDB is a standalone server: the copy is consistent as long as nothing "
            "wrote meanwhile (a replica set is read at one point in time)."
        )


@app.command()
def restore(
    source: Annotated[Path, typer.Argument(help="A folder `ugc backup` wrote")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Drop what the stores hold first")
    ] = False,
) -> None:
    """Restore a backup into the configured stores and check every count against
    its manifest. Stores that hold data are left alone unless --replace."""
    from ugc.backup.archive import NotABackup, NotEmpty  # noqa: PLC0415
    from ugc.backup.archive import restore as restore_backup  # noqa: PLC0415

    settings = settings_of()
    needs_servers(settings, "mongo", "clickhouse")
    refuse_a_held_warehouse(settings, "restore it")
    try:
        with _document_store(settings) as mongo_url:
            done = restore_backup(settings, source, mongo_url=mongo_url, replace=replace)
    except (NotEmpty, NotABackup) as exc:
        raise Refused(str(exc)) from None
    title = f"restored {done.name} ({done.created_at})"
    console.print(_counts(title, done.collections, done.tables))
    if done.mismatches:
        raise Refused("counts differ from the backup's: " + "; ".join(done.mismatches))
    console.print("every count matches the backup's")
    console.print(
        "Erasures asked for since the backup are not in it: ask for them again "
        "(docs/operations.md, Backups and erasures)."
    )
