"""The events API as a service: `open_events_service(settings)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from ugc.events import endpoint, sdk
from ugc.events.api import router
from ugc.events.body import EventBodyLimits
from ugc.events.publisher import EventPublisher, open_publisher
from ugc.events.service import EventAcceptor, EventsState
from ugc.events.suppressions import Suppressions
from ugc.events.topics import ensure_topic
from ugc.settings import Settings
from ugc.web.direct import DirectRoute
from ugc.web.kit import ServiceKit
from ugc.web.quota import TokenBuckets
from ugc.web.service import Service, assemble


def events_service(
    settings: Settings,
    publisher: EventPublisher,
    *,
    direct: bool = True,
    suppressions: Suppressions | None = None,
) -> Service:
    """The events API on a publisher that is open; POST /api/v1/events on its direct
    route, or, `direct=False`, on the framework's router (the other side of
    `make bench-ingest`'s comparison)."""
    kit = ServiceKit.of(settings, "events")
    limits = settings.intake
    acceptor = EventAcceptor(
        publisher,
        TokenBuckets(per_second=limits.events_per_second, burst=limits.events_burst),
        suppressions,
    )
    events = endpoint.EventsEndpoint(
        kit,
        acceptor=acceptor,
        limits=EventBodyLimits(
            limits.max_body_bytes, limits.max_decompressed_bytes, limits.max_decompression_ratio
        ),
        max_events=limits.max_events_per_batch,
    )
    return assemble(
        kit,
        description="Player events in, durably to Kafka. A 2xx means the broker has them.",
        routers=[router, sdk.router, *([] if direct else [endpoint.routed(events)])],
        direct_routes=[
            DirectRoute(endpoint.PATH, "POST", events, endpoint.OPERATION, exclusive=True)
        ]
        if direct
        else [],
        checks={"kafka": publisher.ready},
        state=EventsState(acceptor),
    )


@asynccontextmanager
async def open_events_service(
    settings: Settings, *, publisher: EventPublisher | None = None
) -> AsyncIterator[Service]:
    """The events API; without a `publisher`, on a Kafka producer opened (and the
    topic created) for as long as the block runs. Erased users' tokens are refused
    from the suppressions topic, followed while the block runs."""
    kafka = settings.kafka
    async with AsyncExitStack() as stack:
        if publisher is None:
            await ensure_topic(kafka, client_id=f"{settings.service_name}-admin")
            publisher = await stack.enter_async_context(
                open_publisher(kafka, client_id=f"{settings.service_name}-events-api")
            )
        suppressions = await stack.enter_async_context(
            Suppressions(kafka, client_id=f"{settings.service_name}-events-suppressions")
        )
        yield events_service(settings, publisher, suppressions=suppressions)
