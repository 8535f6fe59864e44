"""Logs, request ids, Sentry and metrics, over the real local servers."""

from __future__ import annotations

import gzip
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import sentry_sdk
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from tests.conftest import user_id
from tests.integration.conftest import (
    client_of,
    http_client,
    lines,
    read_topic,
    wait_for_rows,
)
from ugc.events.app import open_events_service
from ugc.loader.process import loader_running
from ugc.observability.errors import init_sentry
from ugc.settings import Settings
from ugc.warehouse.embedded import ChdbSink

pytestmark = pytest.mark.integration

FILM = str(uuid.uuid4())
ECS_FIELDS = {"@timestamp", "log.level", "message", "ecs.version", "service.name"}


def flat(record: dict[str, object], dotted: str) -> object:
    value: object = record
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return record.get(dotted)
        value = value[part]
    return value


async def test_access_log_lines_are_ecs_json_with_the_request_fields_and_no_token(
    kafka_settings: Settings, token_for: Callable[..., str], log_file: Path
) -> None:
    settings = kafka_settings.replace(access_log="all")
    token = token_for("user-7")
    async for client in http_client(open_events_service(settings)):
        ok = await client.post(
            "/api/v1/events",
            json={"type": "play", "film_id": FILM, "position_sec": 1},
            headers={"Authorization": f"Bearer {token}", "X-Request-Id": "log-test-1"},
        )
        denied = await client.post(
            "/api/v1/events", json={}, headers={"Authorization": "Bearer nope"}
        )
    assert (ok.status_code, denied.status_code) == (202, 401)

    records = lines(log_file)
    assert records, "nothing was logged"
    for record in records:
        assert (
            set(record)
            | {k.split(".")[0] for k in record}
            | {
                "log.level",
                "service.name",
                "ecs.version",
            }
            >= ECS_FIELDS
        )
        assert flat(record, "log.level")
    access = [
        r for r in records if flat(r, "http.request.id") == "log-test-1" and flat(r, "url.path")
    ]
    (line,) = access
    assert flat(line, "service.name") == "ugc-test"
    assert flat(line, "http.request.method") == "POST"
    assert flat(line, "url.path") == "/api/v1/events"
    assert flat(line, "http.response.status_code") == 202
    assert flat(line, "user.id") == user_id("user-7")
    assert isinstance(flat(line, "event.duration"), int)
    assert any(flat(r, "http.response.status_code") == 401 for r in records)
    assert token not in log_file.read_text()


async def test_one_request_id_in_the_response_the_kafka_header_and_the_loader_log(
    pipeline_settings: Settings, warehouse: ChdbSink, token_for: Callable[..., str], log_file: Path
) -> None:
    headers = {"Authorization": f"Bearer {token_for('user-8')}", "X-Request-Id": "trace-me-42"}
    async for events in http_client(open_events_service(pipeline_settings)):
        async with loader_running(pipeline_settings, warehouse):
            response = await events.post(
                "/api/v1/events",
                json={"type": "pause", "film_id": FILM, "position_sec": 3},
                headers=headers,
            )
            assert await wait_for_rows(warehouse, pipeline_settings.clickhouse.database, 1) == 1
    (record,) = await read_topic(
        pipeline_settings.kafka.bootstrap or "", pipeline_settings.kafka.topic, 1
    )

    assert response.headers["x-request-id"] == "trace-me-42"
    assert dict(record.headers)["x-request-id"] == b"trace-me-42"
    loader_lines = [r for r in lines(log_file) if "batch request ids" in str(r.get("message"))]
    assert any("trace-me-42" in str(r["message"]) for r in loader_lines)


class _Envelopes(BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sentry_endpoint() -> Iterator[tuple[str, list[bytes]]]:
    server = HTTPServer(("127.0.0.1", 0), _Envelopes)
    _Envelopes.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://public@127.0.0.1:{server.server_port}/1", _Envelopes.received
    server.shutdown()
    sentry_sdk.get_client().close()
    sentry_sdk.init(dsn=None)


async def test_a_handler_exception_reaches_sentry_tagged_with_the_request_id(
    kafka_settings: Settings, sentry_endpoint: tuple[str, list[bytes]]
) -> None:
    dsn, received = sentry_endpoint
    settings = kafka_settings.replace(sentry_dsn=SecretStr(dsn), release="ugc@test")
    assert init_sentry(settings.observability, environment="test", component="ugc-test")
    async with open_events_service(settings) as service:

        @service.api.get("/boom")
        async def boom() -> None:
            raise RuntimeError("the handler broke")

        async with client_of(service, raise_app_exceptions=False) as client:
            response = await client.get("/boom", headers={"X-Request-Id": "boom-1"})
    sentry_sdk.flush(timeout=5)
    deadline = time.monotonic() + 5
    while (
        not any(b"the handler broke" in body for body in received) and time.monotonic() < deadline
    ):
        time.sleep(0.05)

    assert response.status_code == 500
    assert "unexpected" in response.json()["detail"]
    (envelope,) = [body for body in received if b"the handler broke" in body]
    event = json.loads(envelope.splitlines()[2])
    assert event["tags"]["request_id"] == "boom-1"
    assert event["release"] == "ugc@test"
    assert event["environment"] == "test"


def metric(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


async def test_metrics_move_with_the_traffic(
    kafka_settings: Settings, token_for: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {token_for('user-9')}"}
    batch = {
        "events": [{"type": "seek", "film_id": FILM, "from_sec": 1, "to_sec": 9}] * 3
        + [{"type": "play", "film_id": FILM, "position_sec": 9}, {"type": "nope"}]
    }
    async for client in http_client(open_events_service(kafka_settings)):
        before = (await client.get("/metrics")).text
        assert (await client.post("/api/v1/events", json=batch, headers=headers)).status_code == 202
        assert (await client.post("/api/v1/events", json={}, headers={})).status_code == 401
        after = (await client.get("/metrics")).text

    def delta(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert delta("ugc_events_accepted_total", type="seek") == 3
    assert delta("ugc_events_accepted_total", type="play") == 1
    assert delta("ugc_events_rejected_total", reason="unknown_type") == 1
    assert (
        delta("ugc_http_requests_total", service="events", route="/api/v1/events", status="202")
        == 1
    )
    assert (
        delta("ugc_http_requests_total", service="events", route="/api/v1/events", status="401")
        == 1
    )
    assert delta("ugc_kafka_publish_seconds_count") == 1


async def test_the_prototype_path_moves_the_same_metrics_as_the_intake(
    kafka_settings: Settings, token_for: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {token_for('user-11')}"}
    async for client in http_client(open_events_service(kafka_settings)):
        before = (await client.get("/metrics")).text
        saved = await client.post(
            "/api/v1/view_progress/save", json={"film_id": FILM, "viewed_frame": 5}, headers=headers
        )
        posted = await client.post(
            "/api/v1/events",
            json={"type": "view_progress", "film_id": FILM, "position_sec": 6},
            headers=headers,
        )
        after = (await client.get("/metrics")).text
    assert (saved.status_code, posted.status_code) == (200, 202)

    def delta(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert delta("ugc_events_accepted_total", type="view_progress") == 2
    assert delta("ugc_kafka_publish_seconds_count") == 2
    for route, status in (("/api/v1/view_progress/save", "200"), ("/api/v1/events", "202")):
        assert delta("ugc_http_requests_total", service="events", route=route, status=status) == 1


class _BrokenPublisher:
    """A bug inside the intake, after the request was read: not a broker outage."""

    async def publish(self, key: bytes, values: object, headers: object) -> None:
        raise RuntimeError("a bug in the publisher")

    async def ready(self) -> bool:
        return True


async def test_a_direct_endpoint_failing_answers_500_with_its_request_id_logged_and_counted(
    kafka_settings: Settings, token_for: Callable[..., str], log_file: Path
) -> None:
    service = open_events_service(kafka_settings, publisher=_BrokenPublisher())
    headers = {"Authorization": f"Bearer {token_for('user-10')}"}
    async for client in http_client(service):
        before = (await client.get("/metrics")).text
        broken = await client.post(
            "/api/v1/events",
            json={"type": "play", "film_id": FILM, "position_sec": 1},
            headers={**headers, "X-Request-Id": "bug-1"},
        )
        refused = await client.post(
            "/api/v1/events", content=b"{", headers={**headers, "Content-Type": "application/json"}
        )
        after = (await client.get("/metrics")).text

    assert broken.status_code == 500
    assert broken.headers["content-type"] == "application/problem+json"
    assert broken.headers["x-request-id"] == "bug-1"
    assert refused.status_code == 400
    assert refused.headers["x-request-id"]  # made here when the caller sent none
    route = {"service": "events", "route": "/api/v1/events"}
    for status in ("500", "400"):
        counted = metric(after, "ugc_http_requests_total", **route, status=status)
        assert counted - metric(before, "ugc_http_requests_total", **route, status=status) == 1
    logged = [r for r in lines(log_file) if flat(r, "http.request.id") == "bug-1"]
    assert any("a bug in the publisher" in json.dumps(r) for r in logged)
    assert any(flat(r, "http.response.status_code") == 500 for r in logged)
