"""The loader as a process (`ugc etl`), and beside the APIs (`ugc dev`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ugc.events.suppressions import Suppressions
from ugc.events.topics import ensure_topics
from ugc.loader.erasures import Erasures
from ugc.loader.kafka import kafka_clients
from ugc.loader.loader import Loader
from ugc.settings import LoaderSettings, Settings
from ugc.warehouse.connect import open_sink
from ugc.warehouse.erasure import WarehouseErasure
from ugc.warehouse.migrations import prepare_schema
from ugc.warehouse.sink import EventSink

log = logging.getLogger(__name__)


def dead_letter_configs(loader: LoaderSettings) -> dict[str, str]:
    """The dead-letter topic keeps its letters `dead_letter_retention_days`, by time
    alone (never pushed out by size)."""
    days_ms = loader.dead_letter_retention_days * 86_400_000
    return {"retention.ms": str(days_ms), "retention.bytes": "-1"}


@asynccontextmanager
async def open_loader(settings: Settings, sink: EventSink) -> AsyncIterator[Loader]:
    """A loader on its Kafka clients, writing to `sink` (`prepare_schema` first).
    Both its topics are created if missing: brokers should not create topics by themselves,
    and a dead letter with nowhere to go would stop the loading."""
    await prepare_schema(sink, settings.clickhouse)
    kafka = settings.kafka
    admin = f"{settings.service_name}-admin"
    await ensure_topics(kafka, [kafka.topic], client_id=admin)
    await ensure_topics(
        kafka,
        [settings.loader.dead_letter_topic],
        client_id=admin,
        configs=dead_letter_configs(settings.loader),
        keep_configs=True,
    )
    name = settings.service_name
    async with (
        Suppressions(kafka, client_id=f"{name}-loader-suppressions") as suppressions,
        kafka_clients(settings.kafka, settings.loader, client_id=f"{name}-loader") as (
            source,
            dead_letters,
        ),
    ):
        log.info("loader consuming %s as %s", settings.kafka.topic, settings.loader.group)
        warehouse = settings.clickhouse
        erasures = Erasures(
            suppressions,
            WarehouseErasure(sink, warehouse.database, warehouse.cluster),
            physical_s=settings.privacy.erasure_physical_s,
        )
        yield Loader(
            source,
            sink,
            dead_letters,
            settings.loader,
            database=warehouse.database,
            erasures=erasures,
        )


async def run_loader(settings: Settings) -> None:
    """`ugc etl`: until SIGTERM or SIGINT, which end it after the insert in hand."""
    async with (
        open_sink(settings.clickhouse, settings.data_dir) as sink,
        open_loader(settings, sink) as loader,
    ):
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, loader.stop)
        await loader.run()


@asynccontextmanager
async def loader_running(settings: Settings, sink: EventSink) -> AsyncIterator[Loader]:
    """The loader as a task of this process while the block runs (`ugc dev`)."""
    async with open_loader(settings, sink) as loader:
        task = asyncio.create_task(loader.run(), name="loader")
        try:
            yield loader
        finally:
            loader.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 30)
