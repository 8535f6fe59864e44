"""The ClickHouse schema as versioned SQL files, applied in order, idempotently.

`schema/single` is for one server (and embedded chdb), `schema/cluster` for a
cluster (Replicated tables behind Distributed ones). Every statement is
`IF NOT EXISTS`, and applied versions are recorded, so running it again is safe.
"""

from __future__ import annotations

import logging
import re
from importlib import resources

from ugc.events.sinks import EventSink
from ugc.settings import Settings

log = logging.getLogger(__name__)

_STATEMENT_END = re.compile(r";\s*$", re.MULTILINE)


def statements(settings: Settings) -> list[tuple[str, str]]:
    """(version, SQL) of every statement, with the placeholders filled in."""
    variant = "cluster" if settings.clickhouse_cluster else "single"
    folder = resources.files("ugc.events") / "schema" / variant
    found = []
    for sql_file in sorted(folder.iterdir(), key=lambda f: f.name):
        if not sql_file.name.endswith(".sql"):
            continue
        text = sql_file.read_text()
        # Plain replacement: ClickHouse macros such as {shard} stay as they are.
        for name, value in (
            ("{database}", settings.clickhouse_database),
            ("{cluster}", settings.clickhouse_cluster or ""),
            ("{ttl_days}", str(settings.events_ttl_days)),
        ):
            text = text.replace(name, value)
        for number, statement in enumerate(_STATEMENT_END.split(text)):
            if _without_comments(statement):
                found.append((f"{sql_file.name.removesuffix('.sql')}#{number}", statement.strip()))
    return found


def _without_comments(statement: str) -> str:
    return "\n".join(
        line for line in statement.splitlines() if not line.strip().startswith("--")
    ).strip()


async def migrate(sink: EventSink, settings: Settings) -> list[str]:
    """Apply what is not applied yet; the versions applied now.

    Names come from settings, which only admit plain identifiers; versions are
    file names of this package.
    """
    database = settings.clickhouse_database
    on_cluster = f" ON CLUSTER {settings.clickhouse_cluster}" if settings.clickhouse_cluster else ""
    await sink.execute(f"CREATE DATABASE IF NOT EXISTS {database}{on_cluster}")
    await sink.execute(
        f"CREATE TABLE IF NOT EXISTS {database}.schema_migrations "
        "(version String, applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version"
    )
    done = {
        row["version"]
        for row in await sink.query(f"SELECT version FROM {database}.schema_migrations")  # noqa: S608
    }
    applied = []
    for version, sql in statements(settings):
        if version in done:
            continue
        await sink.execute(sql)
        await sink.execute(
            f"INSERT INTO {database}.schema_migrations (version) VALUES ('{version}')"  # noqa: S608
        )
        applied.append(version)
        log.info("applied ClickHouse migration %s", version)
    return applied
