"""A process on a ClickHouse server never changes the schema at start: it checks
the migrations it needs are applied, and names `ugc migrate` when they are not.
On the embedded engine, which only the process itself can open, it migrates."""

from __future__ import annotations

import pytest

from ugc.analytics.app import open_analytics_service
from ugc.loader.process import open_loader
from ugc.settings import Settings
from ugc.warehouse.embedded import ChdbSink
from ugc.warehouse.migrations import SchemaNotCurrent, migrate, require_schema

pytestmark = pytest.mark.integration

# A server's address: the sink given below serves it, the setting says "not embedded".
SERVER = "http://clickhouse.invalid:8123"


async def tables(sink: ChdbSink, database: str) -> int:
    found = await sink.query(
        "SELECT count() AS n FROM system.tables WHERE database = {db:String}", {"db": database}
    )
    return int(found[0]["n"])


async def test_on_a_server_the_processes_refuse_an_unmigrated_schema_and_create_nothing(
    pipeline_settings: Settings, warehouse: ChdbSink
) -> None:
    settings = pipeline_settings.replace(clickhouse_url=SERVER)
    database = settings.clickhouse.database

    with pytest.raises(SchemaNotCurrent, match="run `ugc migrate`"):
        async with open_analytics_service(settings, sink=warehouse):
            pass
    with pytest.raises(SchemaNotCurrent, match="run `ugc migrate`"):
        async with open_loader(settings, warehouse):
            pass
    assert await tables(warehouse, database) == 0

    await migrate(warehouse, settings.clickhouse)
    await require_schema(warehouse, settings.clickhouse)
    async with open_analytics_service(settings, sink=warehouse):
        pass


async def test_embedded_the_process_migrates_its_own_warehouse(
    pipeline_settings: Settings, warehouse: ChdbSink
) -> None:
    async with open_analytics_service(pipeline_settings, sink=warehouse):
        pass
    await require_schema(warehouse, pipeline_settings.clickhouse)
