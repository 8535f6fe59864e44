"""Entry points of the loader process (`ugc etl`) and of `ugc migrate`."""

from __future__ import annotations

import asyncio
import signal

from ugc.analytics.app import open_sink
from ugc.events.loader import Loader
from ugc.events.migrations import migrate
from ugc.settings import Settings


async def run_loader(settings: Settings) -> None:
    sink = open_sink(settings)
    try:
        await migrate(sink, settings)
        loader = Loader(settings, sink)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, loader.stop)
        await loader.run()
    finally:
        await sink.close()


async def run_migrations(settings: Settings) -> list[str]:
    sink = open_sink(settings)
    try:
        return await migrate(sink, settings)
    finally:
        await sink.close()
