from __future__ import annotations

import re

import pytest

from tests.unit.fakes.warehouse import MigrationSink
from ugc.events.contract import RECORD_FIELDS
from ugc.settings import ClickHouseSettings, Settings
from ugc.warehouse.migrations import SchemaNotCurrent, migrate, require_schema, statements

pytestmark = pytest.mark.unit


def test_one_server_gets_the_files_as_written() -> None:
    found = statements(Settings(_env_file=None, clickhouse_database="stats").clickhouse)  # type: ignore[call-arg]

    assert [v for v, _ in found][:2] == ["001_events#0", "002_film_daily#0"]
    assert all("{" not in re.sub(r"\{\w+:\w+\}", "", sql) for _, sql in found)
    assert all("ON CLUSTER" not in sql for _, sql in found)
    assert any("CREATE TABLE IF NOT EXISTS stats.events\n" in sql for _, sql in found)


def test_a_cluster_gets_replicated_local_tables_behind_distributed_ones() -> None:
    found = [
        sql for _, sql in statements(Settings(_env_file=None, clickhouse_cluster="main").clickhouse)
    ]  # type: ignore[call-arg]
    local = [
        s
        for s in found
        if re.search(r"CREATE TABLE IF NOT EXISTS ugc\.\w+_local ON CLUSTER main", s)
    ]
    distributed = [s for s in found if "ENGINE = Distributed(main, ugc," in s]
    views = [s for s in found if "MATERIALIZED VIEW" in s]

    tables = {"events", "film_daily", "film_day_viewers", "continue_watching_hidden"}
    tables |= {"film_viewer_hours", "erased_viewers"}
    assert len(local) == len(distributed) == len(tables)
    assert all("ENGINE = Replicated" in s and "'{replica}'" in s for s in local)
    assert all("non_replicated_deduplication_window" not in s for s in local)
    assert "events_local, cityHash64(user_id))" in " ".join(distributed)
    assert views
    assert all(" TO ugc." in s and "_local AS" in s and "FROM ugc.events_local" in s for s in views)


def test_the_events_table_has_a_column_for_every_record_field() -> None:
    found = statements(Settings(_env_file=None).clickhouse)  # type: ignore[call-arg]
    (events,) = [sql for v, sql in found if v == "001_events#0"]
    columns = set(re.findall(r"^\s{4}(\w+)\s+\S", events.split("PROJECTION")[0], re.M))
    added = {
        column
        for _, sql in found
        for column in re.findall(r"ALTER TABLE ugc\.events ADD COLUMN IF NOT EXISTS (\w+)", sql)
    }

    assert set(RECORD_FIELDS) <= columns | added


def test_a_table_setting_changes_only_the_local_tables_which_have_it() -> None:
    settings = Settings(_env_file=None, clickhouse_cluster="main")  # type: ignore[call-arg]
    changed = [
        sql.splitlines()[-1]
        for _, sql in statements(settings.clickhouse)
        if "MODIFY SETTING" in sql
    ]

    assert changed == [
        "ALTER TABLE ugc.events_local ON CLUSTER main "
        "MODIFY SETTING lightweight_mutation_projection_mode = 'rebuild'"
    ]


def test_a_column_added_later_reaches_the_local_and_the_distributed_tables() -> None:
    settings = Settings(_env_file=None, clickhouse_cluster="main")  # type: ignore[call-arg]
    alters = [
        "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
        for v, sql in statements(settings.clickhouse)
        if v.startswith("005_")
    ]

    assert alters == [
        "ALTER TABLE ugc.events_local ON CLUSTER main ADD COLUMN IF NOT EXISTS seq UInt32 "
        "DEFAULT 0 AFTER occurred_at",
        "ALTER TABLE ugc.events ON CLUSTER main ADD COLUMN IF NOT EXISTS seq UInt32 "
        "DEFAULT 0 AFTER occurred_at",
    ]


def cluster() -> ClickHouseSettings:
    return Settings(_env_file=None, clickhouse_cluster="main").clickhouse  # type: ignore[call-arg]


def one_server() -> ClickHouseSettings:
    return Settings(_env_file=None).clickhouse  # type: ignore[call-arg]


async def test_the_record_of_a_cluster_is_on_every_node_of_every_shard() -> None:
    sink = MigrationSink()
    await migrate(sink, cluster())

    (record,) = [sql for sql in sink.executed if "TABLE IF NOT EXISTS ugc.schema_migrations" in sql]
    assert "ON CLUSTER main" in record
    assert "ReplicatedReplacingMergeTree('/clickhouse/tables/all/ugc/schema_migrations'" in record
    assert "{shard}" not in record


async def test_a_node_added_to_the_cluster_gets_every_table_from_the_next_migrate() -> None:
    settings = cluster()
    everything = {version for version, _ in statements(settings)}
    sink = MigrationSink(applied=set(everything))

    assert await migrate(sink, settings) == []  # nothing new to record ...
    again = [sql for _, sql in statements(settings)]
    assert [sql for sql in sink.executed if sql in again] == again  # ... all sent ON CLUSTER
    assert not [sql for sql in sink.executed if sql.startswith("INSERT")]


async def test_one_server_applies_only_what_is_missing() -> None:
    settings = one_server()
    versions = [version for version, _ in statements(settings)]
    sink = MigrationSink(applied=set(versions[:-1]))

    assert await migrate(sink, settings) == [versions[-1]]
    assert await migrate(sink, settings) == []


async def test_a_process_refuses_a_schema_it_lacks_and_names_the_step() -> None:
    settings = one_server()
    versions = [version for version, _ in statements(settings)]
    with pytest.raises(
        SchemaNotCurrent, match=r"lacks \d+ .* from 001_events#0: run `ugc migrate`"
    ):
        await require_schema(MigrationSink(), settings)
    with pytest.raises(SchemaNotCurrent, match=f"lacks 1 .* from {versions[-1]}"):
        await require_schema(MigrationSink(set(versions[:-1])), settings)
    newer = MigrationSink({*versions, "999_later#0"})  # a release ahead migrated it: fine
    await require_schema(newer, settings)
    assert newer.executed == []  # checking changes nothing
