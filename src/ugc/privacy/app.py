"""The privacy API as a service: `open_privacy_service(settings)`.

It reaches every store that holds a person's data: MongoDB (the content, and
the erasure requests), ClickHouse (events, read for exports; the erasure
receipts the loader writes) and Kafka (the suppressions topic). `ugc dev`
hands it the embedded ClickHouse; `ugc serve-privacy` opens the configured one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from pymongo import AsyncMongoClient

from ugc.content.store import open_stores
from ugc.content.store.mongo import Document, connect, create_indexes, store_errors
from ugc.content.store.personal import MongoPersonalData
from ugc.events.suppressions import ensure_suppressions_topic
from ugc.privacy.api import PrivacyState, router
from ugc.privacy.erasures import Erasures
from ugc.privacy.export import Export
from ugc.settings import Settings
from ugc.warehouse.connect import open_sink
from ugc.warehouse.erasure import WarehouseErasure
from ugc.warehouse.sink import EventSink
from ugc.web.kit import ServiceKit
from ugc.web.service import Service, assemble


def privacy_service(
    settings: Settings,
    client: AsyncMongoClient[Document],
    sink: EventSink,
) -> Service:
    """The privacy API on clients that are open (its worker not started)."""
    db = client[settings.mongo.database]
    personal = MongoPersonalData(client, db, open_stores(client, settings.mongo.database))
    warehouse = settings.clickhouse
    erasures = Erasures(
        db,
        personal,
        settings.kafka,
        WarehouseErasure(sink, warehouse.database, warehouse.cluster),
        client_id=f"{settings.service_name}-privacy",
    )

    async def mongo_ready() -> bool:
        await client.admin.command("ping")
        return True

    return assemble(
        ServiceKit.of(settings, "privacy"),
        description="A viewer's data: exported whole, or erased from every store.",
        routers=[router],
        checks={"mongodb": mongo_ready},
        state=PrivacyState(erasures, Export(personal, sink, warehouse.database)),
    )


@asynccontextmanager
async def open_privacy_service(
    settings: Settings,
    *,
    client: AsyncMongoClient[Document] | None = None,
    sink: EventSink | None = None,
) -> AsyncIterator[Service]:
    """The privacy API, and its worker moving erasures on, while the block runs."""
    async with AsyncExitStack() as stack:
        if client is None:
            assert settings.mongo.url, "the MongoDB URL is resolved at start"
            client = connect(settings.mongo.url, timeout_s=settings.mongo.timeout_s)
            stack.push_async_callback(client.close)
        db = client[settings.mongo.database]
        with store_errors():
            await create_indexes(db)
        if sink is None:
            sink = await stack.enter_async_context(
                open_sink(settings.clickhouse, settings.data_dir)
            )
        name = settings.service_name
        await ensure_suppressions_topic(settings.kafka, client_id=f"{name}-privacy-admin")
        service = privacy_service(settings, client, sink)
        state = service.api.state.service
        assert isinstance(state, PrivacyState)
        task = asyncio.create_task(state.erasures.run(), name="erasures")
        stack.push_async_callback(_cancelled, task)
        yield service


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
