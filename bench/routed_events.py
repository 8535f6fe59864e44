"""The events API as `ugc serve-events` runs it, but with POST /api/v1/events on
the framework's router instead of its direct route: the other side of
`make bench-ingest`'s comparison (`python -m bench.routed_events`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from ugc.events.app import events_service
from ugc.events.publisher import open_publisher
from ugc.settings import Settings
from ugc.web.server import Host, serve
from ugc.web.service import Service


def main() -> None:
    settings = Settings()

    @asynccontextmanager
    async def routed() -> AsyncIterator[Sequence[Service]]:
        async with open_publisher(settings.kafka, client_id="bench-routed") as publisher:
            yield [events_service(settings, publisher, direct=False)]

    serve(Host(routed, settings), settings.http)


if __name__ == "__main__":
    main()
