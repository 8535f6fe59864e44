"""The event intake API as an ASGI app: `create_events_app(settings)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ugc import __version__
from ugc.auth import TokenVerifier, load_keys
from ugc.events.api import router
from ugc.events.body import BodyLimits
from ugc.events.publisher import EventPublisher, KafkaPublisher, ensure_topic
from ugc.settings import Settings
from ugc.web import health_router, prepare_app


def create_events_app(settings: Settings, publisher: EventPublisher | None = None) -> FastAPI:
    """The intake API. Without a `publisher` it opens a Kafka producer for its lifetime."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if publisher is not None:
            app.state.publisher = publisher
            yield
            return
        await ensure_topic(settings)
        kafka = KafkaPublisher(settings)
        await kafka.start()
        app.state.publisher = kafka
        try:
            yield
        finally:
            await kafka.stop()

    app = FastAPI(
        title="ugc events API",
        version=__version__,
        description="Player events in, durably to Kafka. A 2xx means the broker has them.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.body_limits = BodyLimits(
        settings.max_body_bytes, settings.max_decompressed_bytes, settings.max_decompression_ratio
    )
    prepare_app(app, TokenVerifier(settings, load_keys(settings)))

    async def broker_ready() -> bool:
        ready: bool = await app.state.publisher.ready()
        return ready

    app.include_router(health_router({"kafka": broker_ready}))
    app.include_router(router)
    return app
