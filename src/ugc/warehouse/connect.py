"""Opening the configured warehouse: a ClickHouse server, or embedded chdb."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from ugc.settings import ClickHouseSettings
from ugc.warehouse.sink import EventSink


@asynccontextmanager
async def open_sink(
    settings: ClickHouseSettings, data_dir: Path, *, backups: Path | None = None
) -> AsyncIterator[EventSink]:
    """The server at `settings.url`, else chdb under `data_dir/clickhouse` (which may
    write backups under `backups`); closed on exit."""
    sink: EventSink
    if settings.url:
        from ugc.warehouse.remote import ClickHouseHttpSink  # noqa: PLC0415 - one of the two

        sink = ClickHouseHttpSink(settings.url)
    else:
        from ugc.warehouse.embedded import ChdbSink  # noqa: PLC0415

        sink = ChdbSink(data_dir / "clickhouse", backups=backups)
    try:
        yield sink
    finally:
        await sink.close()
