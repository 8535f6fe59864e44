"""An API as `ugc serve-events` or `ugc serve-content` runs it, but with its hot
path on the framework's router instead of its direct route: the other side of
the comparison in `make bench-ingest` (`python -m bench.routed events`) and
`make bench-content` (`python -m bench.routed content`)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from ugc.content.app import open_content_service
from ugc.events.app import events_service
from ugc.events.publisher import open_publisher
from ugc.settings import Settings
from ugc.web.server import Host, serve
from ugc.web.service import Service


def main() -> None:
    settings = Settings()
    which = sys.argv[1]

    @asynccontextmanager
    async def routed() -> AsyncIterator[Sequence[Service]]:
        if which == "events":
            async with open_publisher(settings.kafka, client_id="bench-routed") as publisher:
                yield [events_service(settings, publisher, direct=False)]
        else:
            async with open_content_service(settings, direct_summary=False) as service:
                yield [service]

    serve(Host(routed, settings), settings.http)


if __name__ == "__main__":
    main()
