"""The ClickHouse schema as versioned SQL files, applied in order, idempotently.

The files in `schema/` are written for one server (and embedded chdb). For a
cluster (`UGC_CLICKHOUSE_CLUSTER`) the same statements are rewritten: every
table becomes a Replicated `<name>_local` on each node behind a Distributed
`<name>` (sharded as its `-- shard by:` comment says), and views read and write
the local tables. One schema, so the two can never drift. Every statement is
`IF NOT EXISTS`, and applied versions are recorded, so running it again is safe.
"""

from __future__ import annotations

import logging
import re
from importlib import resources
from pathlib import Path

from ugc.errors import NotSetUp
from ugc.settings import ClickHouseSettings
from ugc.settings.sharding import Epoch
from ugc.warehouse.connect import open_sink
from ugc.warehouse.sharding import kept, placed
from ugc.warehouse.sink import EventSink

log = logging.getLogger(__name__)

_STATEMENT_END = re.compile(r";\s*$", re.MULTILINE)


def statements(settings: ClickHouseSettings) -> list[tuple[str, str]]:
    """(version, SQL) of every statement, with the placeholders filled in."""
    folder = resources.files("ugc.warehouse") / "schema"
    found = []
    for sql_file in sorted(folder.iterdir(), key=lambda f: f.name):
        if not sql_file.name.endswith(".sql"):
            continue
        text = sql_file.read_text()
        # Plain replacement: ClickHouse macros such as {shard} stay as they are.
        for name, value in (
            ("{database}", settings.database),
            ("{ttl_days}", str(settings.events_ttl_days)),
        ):
            text = text.replace(name, value)
        pieces = [p.strip() for p in _STATEMENT_END.split(text) if _without_comments(p)]
        if settings.cluster:
            cluster, epochs = settings.cluster, settings.shard_epochs
            pieces = [
                c.replace("{cluster}", cluster) for p in pieces for c in for_cluster(p, epochs)
            ]
        stem = sql_file.name.removesuffix(".sql")
        found += [(f"{stem}#{number}", piece) for number, piece in enumerate(pieces)]
    return found


_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\S+)\.(\w+)")
_VIEW = re.compile(r"CREATE MATERIALIZED VIEW IF NOT EXISTS (\S+)\.(\w+) TO (\S+)\.(\w+)")
_ENGINE = re.compile(r"ENGINE = (\w*MergeTree)\b")
_SHARD = re.compile(r"--\s*shard by:\s*(.+)")
_PLACED = re.compile(r"--\s*placed by:\s*(\w+)")
_ALTER = re.compile(r"ALTER TABLE (\S+)\.(\w+) ")


def for_cluster(statement: str, epochs: tuple[Epoch, ...] | None = None) -> list[str]:
    """One statement for a single server, as the statements a cluster needs; with
    `epochs` (a shard was added), each table placed as `ugc.warehouse.sharding`
    says. The Distributed table is made again every time (`OR REPLACE`, an atomic
    swap of metadata): its sharding key follows the settings."""
    if alter := _ALTER.search(statement):
        # The local tables hold the data; the Distributed one must know the column too
        # (but not a MergeTree setting, which it does not have).
        database, name = alter.groups()
        local = f"ALTER TABLE {database}.{name}_local ON CLUSTER {{cluster}} "
        if "MODIFY SETTING" in statement:
            return [_ALTER.sub(local, statement)]
        return [
            _ALTER.sub(local, statement),
            _ALTER.sub(f"ALTER TABLE {database}.{name} ON CLUSTER {{cluster}} ", statement),
        ]
    if view := _VIEW.search(statement):
        database, name, target_db, target = view.groups()
        head = f"CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.{name} ON CLUSTER {{cluster}} "
        rewritten = _VIEW.sub(head + f"TO {target_db}.{target}_local", statement)
        return [re.sub(r"FROM (\S+)\.(\w+)\b", r"FROM \1.\2_local", rewritten)]
    table = _TABLE.search(statement)
    if table is None:
        return [statement]
    database, name = table.groups()
    path = f"'/clickhouse/tables/{{shard}}/{database}/{name}_local', '{{replica}}'"
    local = _TABLE.sub(
        f"CREATE TABLE IF NOT EXISTS {database}.{name}_local ON CLUSTER {{cluster}}", statement
    )
    local = _ENGINE.sub(lambda m: f"ENGINE = Replicated{m.group(1)}({path})", local)
    local = re.sub(r"non_replicated_deduplication_window = \d+,\s*", "", local)
    shard = _SHARD.search(statement)
    key = shard.group(1).strip() if shard else "rand()"
    if shard and epochs:
        by_time = _PLACED.search(statement)
        key = placed(key, by_time.group(1), epochs) if by_time else kept(key, epochs)
    distributed = (
        f"CREATE OR REPLACE TABLE {database}.{name} ON CLUSTER {{cluster}} "
        f"AS {database}.{name}_local\n"
        f"ENGINE = Distributed({{cluster}}, {database}, {name}_local, {key})"
    )
    return [local, distributed]


def _without_comments(statement: str) -> str:
    return "\n".join(
        line for line in statement.splitlines() if not line.strip().startswith("--")
    ).strip()


class SchemaNotCurrent(NotSetUp):
    """The warehouse lacks migrations this release needs; `ugc migrate` applies them."""


def record_table(settings: ClickHouseSettings) -> str:
    """The applied-migrations record. On a cluster it is replicated to every node of
    every shard (one Keeper path, no `{shard}`), so whichever node a process asks
    knows what is applied, a new node catches up with it, and two nodes never
    disagree."""
    database = settings.database
    columns = "(version String, applied_at DateTime DEFAULT now())"
    if not settings.cluster:
        return (
            f"CREATE TABLE IF NOT EXISTS {database}.schema_migrations {columns} "
            "ENGINE = ReplacingMergeTree ORDER BY version"
        )
    path = f"'/clickhouse/tables/all/{database}/schema_migrations', '{{replica}}'"
    return (
        f"CREATE TABLE IF NOT EXISTS {database}.schema_migrations ON CLUSTER {settings.cluster} "
        f"{columns} ENGINE = ReplicatedReplacingMergeTree({path}) ORDER BY version"
    )


async def migrate(sink: EventSink, settings: ClickHouseSettings) -> list[str]:
    """Apply what is not applied yet; the versions applied now.

    On a cluster every statement runs again each time, `ON CLUSTER` and
    `IF NOT EXISTS`: a node or a shard added since the last run gets every table,
    view and column the others have, and the nodes that have them do nothing.
    Names come from settings, which only admit plain identifiers; versions are
    file names of this package.
    """
    database = settings.database
    on_cluster = f" ON CLUSTER {settings.cluster}" if settings.cluster else ""
    await _check_shards(sink, settings)
    await sink.execute(f"CREATE DATABASE IF NOT EXISTS {database}{on_cluster}")
    await sink.execute(record_table(settings))
    done = await _applied(sink, database)
    applied = []
    for version, sql in statements(settings):
        if version in done and not settings.cluster:
            continue
        await sink.execute(sql)
        if version in done:
            continue
        await sink.execute(
            f"INSERT INTO {database}.schema_migrations (version) VALUES ('{version}')"  # noqa: S608
        )
        applied.append(version)
        log.info("applied ClickHouse migration %s", version)
    return applied


class ShardsDisagree(NotSetUp):
    pass


async def _check_shards(sink: EventSink, settings: ClickHouseSettings) -> None:
    """With a sharding history, the cluster must have the shards its last epoch
    names: rows would be placed on shards that are not there, or not on new ones."""
    epochs = settings.shard_epochs
    if not settings.cluster or not epochs:
        return
    found = await sink.query(
        "SELECT max(shard_num) AS shards FROM system.clusters WHERE cluster = {c:String}",
        {"c": settings.cluster},
    )
    shards = int(found[0]["shards"]) if found else 0
    if shards != epochs[-1].shards:
        raise ShardsDisagree(
            f"the cluster {settings.cluster} has {shards} shards, but UGC_CLICKHOUSE_SHARDING "
            f"ends with {epochs[-1].shards}: list every shard in cluster.xml on every node "
            "(the new ones last), or correct the setting, then run `ugc migrate` again"
        )


async def _applied(sink: EventSink, database: str) -> set[str]:
    rows = await sink.query(f"SELECT DISTINCT version FROM {database}.schema_migrations")  # noqa: S608
    return {row["version"] for row in rows}


async def require_schema(sink: EventSink, settings: ClickHouseSettings) -> None:
    """`SchemaNotCurrent` unless every migration of this release is applied. What
    a process checks at start instead of migrating: a read on the node it asks,
    so a node down elsewhere never holds it, and it needs no right to change the
    schema."""
    database = settings.database
    found = await sink.query(
        "SELECT count() AS n FROM system.tables WHERE database = {db:String} "
        "AND name = 'schema_migrations'",
        {"db": database},
    )
    done = await _applied(sink, database) if int(found[0]["n"]) else set()
    missing = [version for version, _ in statements(settings) if version not in done]
    if missing:
        raise SchemaNotCurrent(
            f"the ClickHouse database {database} lacks {len(missing)} schema migration(s) "
            f"this release needs, from {missing[0]}: run `ugc migrate` (in compose: "
            "`docker compose run --rm migrate`), then start this again"
        )


async def prepare_schema(sink: EventSink, settings: ClickHouseSettings) -> None:
    """At a process's start: the embedded ClickHouse, which only this process can
    open, is migrated; a server or a cluster is only checked (`ugc migrate` is its
    own step there)."""
    if settings.url is None:
        await migrate(sink, settings)
    else:
        await require_schema(sink, settings)


async def migrate_configured(settings: ClickHouseSettings, data_dir: Path) -> list[str]:
    """`ugc migrate`: the configured warehouse, migrated."""
    async with open_sink(settings, data_dir) as sink:
        return await migrate(sink, settings)
