"""The content API as `ugc serve-content` runs it, but with the rating summary on
the framework's router instead of its direct route: the other side of
`make bench-content`'s comparison (`python -m bench.routed_content`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from ugc.content.app import open_content_service
from ugc.settings import Settings
from ugc.web.server import Host, serve
from ugc.web.service import Service


def main() -> None:
    settings = Settings()

    @asynccontextmanager
    async def routed() -> AsyncIterator[Sequence[Service]]:
        async with open_content_service(settings, direct_summary=False) as service:
            yield [service]

    serve(Host(routed, settings), settings.http)


if __name__ == "__main__":
    main()
