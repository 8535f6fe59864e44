"""The warehouse by ClickHouse's own BACKUP and RESTORE.

Embedded (chdb), the database is written to a `File` destination in the backup
folder. On servers it is written to the backup disk every node has configured
(`UGC_CLICKHOUSE_BACKUP_DISK`), `ON CLUSTER` on a cluster: ClickHouse hands each
replicated part to one replica, and each replica writes only its share, so the
disk must be one storage all nodes share (an S3 bucket, or one volume mounted on
every node); a disk local to each node would hold about half of the parts each.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ugc.settings import ClickHouseSettings
from ugc.warehouse.sink import EventSink


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a backup of the warehouse goes, as ClickHouse names it."""

    expression: str  # File('/backups/x/clickhouse') or Disk('backups', 'x')

    @classmethod
    def of(cls, settings: ClickHouseSettings, folder: Path, name: str) -> Destination:
        if settings.url is None:
            return cls(f"File({_quoted(str(folder.resolve() / 'clickhouse'))})")
        return cls(f"Disk({_quoted(settings.backup_disk)}, {_quoted(name + '/clickhouse')})")


def _quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _on_cluster(settings: ClickHouseSettings) -> str:
    return f" ON CLUSTER {settings.cluster}" if settings.cluster else ""


def backup_statement(settings: ClickHouseSettings, destination: Destination) -> str:
    return f"BACKUP DATABASE {settings.database}{_on_cluster(settings)} TO {destination.expression}"


def restore_statement(settings: ClickHouseSettings, destination: Destination) -> str:
    return (
        f"RESTORE DATABASE {settings.database}{_on_cluster(settings)} FROM {destination.expression}"
    )


async def row_counts(sink: EventSink, settings: ClickHouseSettings) -> dict[str, int]:
    """Rows of each table of the database that stores rows (not views); on a
    cluster, through its Distributed tables, which count every shard."""
    rows = await sink.query(
        "SELECT name FROM system.tables WHERE database = {db:String} "
        "AND (engine = 'Distributed') = {cluster:Bool} "
        "AND (engine LIKE '%MergeTree' OR engine = 'Distributed') ORDER BY name",
        {"db": settings.database, "cluster": settings.cluster is not None},
    )
    counts: dict[str, int] = {}
    for row in rows:
        table = f"{settings.database}.{row['name']}"
        (found,) = await sink.query(f"SELECT count() AS n FROM {table}")  # noqa: S608
        counts[row["name"]] = int(found["n"])
    return counts


async def holds_data(sink: EventSink, settings: ClickHouseSettings) -> bool:
    return any((await row_counts(sink, settings)).values())


async def back_up(sink: EventSink, settings: ClickHouseSettings, to: Destination) -> None:
    await sink.execute(backup_statement(settings, to))


async def restore(
    sink: EventSink, settings: ClickHouseSettings, source: Destination, *, replace: bool
) -> None:
    """The database as backed up. Dropped first with `replace`; else it must hold no
    rows (an empty schema, as `ugc migrate` leaves it, is dropped)."""
    if not replace and await holds_data(sink, settings):
        raise FileExistsError(settings.database)
    await sink.execute(f"DROP DATABASE IF EXISTS {settings.database}{_on_cluster(settings)} SYNC")
    await sink.execute(restore_statement(settings, source))
