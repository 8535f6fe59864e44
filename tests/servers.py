"""A uvicorn server in the test's own event loop, for as long as a block runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn


@asynccontextmanager
async def started(server: uvicorn.Server) -> AsyncIterator[None]:
    """Serving once the block begins; stopped (what it holds answered) when it ends."""
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), task
            await asyncio.sleep(0.02)
        yield
    finally:
        server.should_exit = True
        await task
