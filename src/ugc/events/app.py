"""The event intake API as a service: `create_events_service(settings)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from ugc.auth import TokenVerifier, load_keys
from ugc.events import endpoint
from ugc.events.api import IntakeResult, router
from ugc.events.body import BodyLimits
from ugc.events.contract import EventBatch
from ugc.events.publisher import EventPublisher, KafkaPublisher, ensure_topic
from ugc.settings import Settings
from ugc.web import DirectRoute, Service, add_openapi_paths, health_router, new_api


def create_events_service(settings: Settings, publisher: EventPublisher | None = None) -> Service:
    """The intake API. Without a `publisher` it opens a Kafka producer for its lifetime."""
    verifier = TokenVerifier(settings, load_keys(settings))
    intake = endpoint.IntakeEndpoint(
        verifier=verifier,
        limits=BodyLimits(
            settings.max_body_bytes,
            settings.max_decompressed_bytes,
            settings.max_decompression_ratio,
        ),
        max_events=settings.max_events_per_batch,
        retry_after_s=settings.retry_after_s,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if publisher is not None:
            app.state.publisher = intake.publisher = publisher
            yield
            return
        await ensure_topic(settings)
        kafka = KafkaPublisher(settings)
        await kafka.start()
        app.state.publisher = intake.publisher = kafka
        try:
            yield
        finally:
            await kafka.stop()

    app = new_api(
        settings,
        name="events",
        description="Player events in, durably to Kafka. A 2xx means the broker has them.",
        lifespan=lifespan,
        verifier=verifier,
    )

    async def broker_ready() -> bool:
        ready: bool = await app.state.publisher.ready()
        return ready

    checks = {"kafka": broker_ready}
    app.include_router(health_router(checks))
    app.include_router(router)
    schemas: list[Any] = [EventBatch, IntakeResult]
    add_openapi_paths(
        app,
        {endpoint.PATH: endpoint.openapi_path("#/components/schemas/EventBatch")},
        schemas,
    )
    intake_route = DirectRoute(endpoint.PATH, "POST", intake, exclusive=True)
    return Service(app, [intake_route], checks=checks, name="events")
