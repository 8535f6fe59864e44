"""What a web player on another origin needs of the APIs: CORS on all three,
beacons that authenticate, the tracker served, per-user quotas and shedding, and
events of one time kept in the order sent."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import orjson
import pytest

from tests.conftest import user_id
from tests.integration.conftest import (
    client_of,
    http_client,
    read_events,
    real_server,
    wait_for_rows,
)
from ugc.analytics.app import open_analytics_service
from ugc.content.app import open_content_service
from ugc.devstack.processes import free_port
from ugc.devstack.servers import LocalBroker
from ugc.events.app import open_events_service
from ugc.loader.process import loader_running
from ugc.settings import Settings
from ugc.warehouse.embedded import ChdbSink
from ugc.web.service import Service

pytestmark = pytest.mark.integration

FILM = str(uuid.uuid4())
ORIGINS = ["https://cinema.example", "https://*.cinema.example"]


def play(**extra: object) -> dict[str, object]:
    return {"type": "play", "film_id": FILM, "position_sec": 1, **extra}


@asynccontextmanager
async def every_api(settings: Settings, sink: ChdbSink) -> AsyncIterator[dict[str, Service]]:
    async with (
        open_events_service(settings) as events,
        open_content_service(settings) as content,
        open_analytics_service(settings, sink=sink) as analytics,
    ):
        yield {"events": events, "content": content, "analytics": analytics}


PATHS = {
    "events": ("POST", "/api/v1/events"),
    "content": ("PUT", f"/api/v1/films/{FILM}/rating"),
    "analytics": ("GET", "/api/v1/analytics/users/me/resume"),
}


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://cinema.example", True),
        ("https://watch.eu.cinema.example", True),
        ("https://cinema.example.evil.test", False),
        ("http://cinema.example", False),
        ("https://evilcinema.example", False),
        ("null", False),
    ],
)
async def test_cors_on_every_api_for_allowed_pattern_and_refused_origins(
    pipeline_settings: Settings,
    mongo_settings: Settings,
    warehouse: ChdbSink,
    token_for: Callable[..., str],
    origin: str,
    allowed: bool,
) -> None:
    settings = pipeline_settings.replace(
        mongo_url=mongo_settings.mongo.url, cors_origins=ORIGINS, cors_max_age_s=321
    )
    auth = {"Authorization": f"Bearer {token_for('hana')}", "Origin": origin}
    async with every_api(settings, warehouse) as apis:
        for name, service in apis.items():
            method, path = PATHS[name]
            async with client_of(service) as client:
                preflight = await client.options(
                    path,
                    headers={
                        "Origin": origin,
                        "Access-Control-Request-Method": method,
                        "Access-Control-Request-Headers": "authorization,content-type",
                    },
                )
                body = play() if name == "events" else {"score": 5}
                actual = await client.request(
                    method, path, json=None if method == "GET" else body, headers=auth
                )
            assert "origin" in preflight.headers["vary"].lower(), name
            assert "origin" in actual.headers["vary"].lower(), name
            if allowed:
                assert preflight.status_code == 204, (name, preflight.text)
                assert preflight.headers["access-control-allow-origin"] == origin
                assert method in preflight.headers["access-control-allow-methods"]
                for header in ("authorization", "content-type", "content-encoding", "x-request-id"):
                    assert header in preflight.headers["access-control-allow-headers"]
                assert preflight.headers["access-control-max-age"] == "321"
                assert actual.status_code < 300, (name, actual.text)
                assert actual.headers["access-control-allow-origin"] == origin
                exposed = actual.headers["access-control-expose-headers"]
                assert "X-Request-Id" in exposed
                assert "Retry-After" in exposed
            else:
                assert preflight.status_code == 403, name
                assert preflight.headers["content-type"] == "application/problem+json"
                assert "access-control-allow-origin" not in preflight.headers
                assert "access-control-allow-origin" not in actual.headers


async def test_local_pages_are_allowed_by_default_outside_production(
    kafka_settings: Settings,
) -> None:
    async for client in http_client(open_events_service(kafka_settings)):
        local = await client.options(
            "/api/v1/events",
            headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"},
        )
        other = await client.options(
            "/api/v1/events",
            headers={"Origin": "https://cinema.example", "Access-Control-Request-Method": "POST"},
        )
    assert local.status_code == 204
    assert other.status_code == 403


def test_a_wildcard_origin_is_refused(base_settings: Settings) -> None:
    with pytest.raises(ValueError, match="list origins"):
        base_settings.replace(cors_origins=["*"])


async def test_a_beacon_carries_its_token_in_the_body_which_goes_nowhere_else(
    kafka_settings: Settings, token_for: Callable[..., str]
) -> None:
    token = token_for("ivan")
    beacon = orjson.dumps({"access_token": token, "events": [play(), play(position_sec=2)]})
    text = {"Content-Type": "text/plain;charset=UTF-8"}
    async for client in http_client(open_events_service(kafka_settings)):
        sent = await client.post("/api/v1/events", content=beacon, headers=text)
        # The header wins when both are there.
        both = await client.post(
            "/api/v1/events",
            content=orjson.dumps({"access_token": "not-a-token", "events": [play()]}),
            headers={**text, "Authorization": f"Bearer {token_for('jane')}"},
        )
        forged = await client.post(
            "/api/v1/events",
            content=orjson.dumps({"access_token": token + "x", "events": [play()]}),
            headers=text,
        )
        missing = await client.post("/api/v1/events", content=orjson.dumps(play()), headers=text)
        in_url = await client.post(f"/api/v1/events?access_token={token}", json=play())

    assert (sent.status_code, both.status_code) == (204, 204)
    assert forged.status_code == 401
    assert missing.status_code == 401
    assert in_url.status_code == 400
    assert "never in the URL" in in_url.json()["detail"]
    events = await read_events(kafka_settings.kafka.bootstrap or "", kafka_settings.kafka.topic, 3)
    users = [value["user_id"] for _, value in events]
    assert sorted(users) == sorted([user_id("ivan")] * 2 + [user_id("jane")])
    assert all(token not in record.value.decode() for record, _ in events)


async def test_the_tracker_is_served_cacheable_with_an_etag(kafka_settings: Settings) -> None:
    async for client in http_client(open_events_service(kafka_settings)):
        first = await client.get("/sdk/tracker.js")
        again = await client.get(
            "/sdk/tracker.js", headers={"If-None-Match": first.headers["etag"]}
        )

    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/javascript")
    assert "max-age" in first.headers["cache-control"]
    assert "globalThis.ugc = " in first.text
    assert again.status_code == 304


async def test_a_user_over_the_quota_gets_429_while_another_is_served(
    kafka_settings: Settings, token_for: Callable[..., str]
) -> None:
    settings = kafka_settings.replace(events_per_second=1, events_burst=5)
    runaway = {"Authorization": f"Bearer {token_for('kim')}"}
    calm = {"Authorization": f"Bearer {token_for('lee')}"}
    async for client in http_client(open_events_service(settings)):
        first = await client.post("/api/v1/events", json={"events": [play()] * 5}, headers=runaway)
        over = await client.post("/api/v1/events", json={"events": [play()] * 3}, headers=runaway)
        other = await client.post("/api/v1/events", json=play(), headers=calm)
        metrics = (await client.get("/metrics")).text

    assert first.status_code == 202
    assert over.status_code == 429
    assert int(over.headers["retry-after"]) >= 1
    assert "retry in" in over.json()["detail"]
    assert other.status_code == 202
    assert 'ugc_events_rejected_total{reason="quota"}' in metrics


async def test_past_the_in_flight_bound_requests_are_shed_with_503_at_once(
    base_settings: Settings, token_for: Callable[..., str], tmp_path: Path
) -> None:
    broker = LocalBroker(free_port(), tmp_path)
    broker.start()
    settings = base_settings.replace(
        port=free_port(),
        kafka_bootstrap=broker.bootstrap,
        kafka_idempotence=False,
        kafka_send_timeout_s=2.0,
        max_in_flight=4,
        cors_origins=ORIGINS,
    )
    auth = {"Authorization": f"Bearer {token_for('mia')}", "Origin": ORIGINS[0]}

    @asynccontextmanager
    async def services() -> AsyncIterator[list[Service]]:
        async with open_events_service(settings) as events:
            yield [events]

    try:
        async with (
            real_server(services, settings) as base,
            httpx.AsyncClient(base_url=base, timeout=30) as client,
        ):
            broker.process.freeze()  # requests in flight now wait for the broker
            try:
                waiting = [
                    asyncio.create_task(client.post("/api/v1/events", json=play(), headers=auth))
                    for _ in range(4)
                ]
                await asyncio.sleep(0.5)  # the four are in flight
                shed = [await client.post("/api/v1/events", json=play(), headers=auth)]
                shed += [await client.get("/api/v1/events/schema")]
                ready = await client.get("/readyz")  # never shed
                metrics = (await client.get("/metrics")).text
            finally:
                broker.process.thaw()
            first = await asyncio.gather(*waiting)
    finally:
        broker.stop()

    for answer in shed:
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == str(settings.http.retry_after_s)
        assert "capacity" in answer.json()["detail"]
    # A page on an allowed origin can read the refusal, and so its Retry-After.
    assert shed[0].headers["access-control-allow-origin"] == ORIGINS[0]
    assert ready.status_code == 503  # the broker was frozen: not ready, but answered
    assert "ugc_http_shed_total 2.0" in metrics
    assert all(a.status_code in {202, 503} for a in first)  # answered in time, either way


async def test_events_of_one_time_keep_their_order_in_the_resume_point(
    pipeline_settings: Settings, warehouse: ChdbSink, token_for: Callable[..., str]
) -> None:
    auth = {"Authorization": f"Bearer {token_for('noah')}"}
    when = "2026-11-30T20:00:00.000Z"
    batch = {
        "events": [
            {"type": "view_progress", "film_id": FILM, "position_sec": p, "timestamp": when}
            for p in (10, 20, 30)
        ]
    }
    async for events in http_client(open_events_service(pipeline_settings)):
        async for analytics in http_client(
            open_analytics_service(pipeline_settings, sink=warehouse)
        ):
            async with loader_running(pipeline_settings, warehouse):
                posted = await events.post("/api/v1/events", json=batch, headers=auth)
                assert posted.status_code == 202
                database = pipeline_settings.clickhouse.database
                assert await wait_for_rows(warehouse, database, 3) == 3
                resume = await analytics.get("/api/v1/analytics/users/me/resume", headers=auth)

    assert [r["position_sec"] for r in resume.json()] == [30]


async def test_a_response_to_a_cors_request_exposes_the_request_id(
    kafka_settings: Settings, token_for: Callable[..., str]
) -> None:
    settings = kafka_settings.replace(cors_origins=ORIGINS)
    headers = {
        "Authorization": f"Bearer {token_for('olga')}",
        "Origin": "https://cinema.example",
    }
    async for client in http_client(open_events_service(settings)):
        refused = await client.post("/api/v1/events", json={"type": "nope"}, headers=headers)
    # An error is read by the page too: it carries the CORS headers as a success does.
    assert refused.status_code == 422
    assert refused.headers["access-control-allow-origin"] == "https://cinema.example"
    assert refused.headers["x-request-id"]
