"""The events study: ClickHouse (the project's warehouse), PostgreSQL, DuckDB."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ugc.research.events.store import EventStore
from ugc.research.postgres import DEFAULT_URL, scratch_database

if TYPE_CHECKING:
    from rich.progress import Progress

    from ugc.research.events.study import EventsPlan


async def research_events(
    data_dir: Path,
    progress: Progress,
    plan: EventsPlan,
    *,
    clickhouse_url: str | None,
    postgres_url: str | None,
) -> dict[str, Any]:
    """The events study on fresh stores: its results."""
    from ugc.research.events.study import study  # noqa: PLC0415

    async with open_event_stores(
        data_dir, clickhouse_url=clickhouse_url, postgres_url=postgres_url or DEFAULT_URL
    ) as stores:
        return await study(stores, plan, progress)


@asynccontextmanager
async def open_event_stores(
    data_dir: Path, *, clickhouse_url: str | None, postgres_url: str
) -> AsyncIterator[list[EventStore]]:
    """The three stores, each empty; their data is removed afterwards (a database
    the study made on the PostgreSQL server, files under `data_dir`)."""
    import duckdb  # noqa: PLC0415 - the research extra

    from ugc.research.events.clickhouse import ClickHouseStore  # noqa: PLC0415
    from ugc.research.events.duckdb import DuckDbStore  # noqa: PLC0415
    from ugc.research.events.postgres import PostgresStore  # noqa: PLC0415
    from ugc.settings import ClickHouseSettings  # noqa: PLC0415
    from ugc.warehouse.connect import open_sink  # noqa: PLC0415

    work = data_dir / f"events-{secrets.token_hex(4)}"
    work.mkdir(parents=True)
    async with AsyncExitStack() as stack:
        stack.callback(shutil.rmtree, work, ignore_errors=True)
        settings = ClickHouseSettings(url=clickhouse_url)
        sink = await stack.enter_async_context(open_sink(settings, work))
        clickhouse = ClickHouseStore(sink, "server" if clickhouse_url else "embedded chdb")
        stack.push_async_callback(clickhouse.close)
        url = await stack.enter_async_context(scratch_database(postgres_url, "events"))
        postgres = await PostgresStore.connect(url, "server")
        stack.push_async_callback(postgres.close)
        duck = DuckDbStore(duckdb.connect(str(work / "events.duckdb")), "embedded")
        stack.push_async_callback(duck.close)
        yield [clickhouse, postgres, duck]
