"""The production edge, live: Debian's nginx with deploy/nginx/nginx.conf (only its
ports, certificate paths and resolver changed) in front of the three APIs, each
on its own address, found by name through a DNS server as Docker's would.

Skipped, saying so, where nginx is not installed (`.ci/run` installs it).
"""

from __future__ import annotations

import asyncio
import gzip
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from tests.deploy.nginx import Edge, Names, running_edge
from tests.deploy.tools import tool
from tests.integration.conftest import lines, read_events, real_server
from ugc.analytics.app import open_analytics_service
from ugc.content.app import open_content_service
from ugc.devstack.processes import free_port
from ugc.events.app import open_events_service
from ugc.settings import Settings
from ugc.warehouse.embedded import ChdbSink
from ugc.web.service import Service

pytestmark = pytest.mark.integration

FILM = str(uuid.uuid4())
ADDRESSES = {"events": "127.0.0.2", "content": "127.0.0.3", "analytics": "127.0.0.4"}
NGINX_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class Front:
    edge: Edge
    names: Names
    settings: Settings
    ports: dict[str, int]
    servers: AsyncExitStack

    def nginx_log(self) -> list[dict[str, object]]:
        return [orjson.loads(line) for line in self.edge.access_log.read_text().splitlines()]


@asynccontextmanager
async def serving(name: str, settings: Settings, sink: ChdbSink) -> AsyncIterator[str]:
    openers = {
        "events": lambda: open_events_service(settings),
        "content": lambda: open_content_service(settings),
        "analytics": lambda: open_analytics_service(settings, sink=sink),
    }

    @asynccontextmanager
    async def services() -> AsyncIterator[list[Service]]:
        async with openers[name]() as service:
            yield [service]

    async with real_server(services, settings) as base:
        yield base


@pytest.fixture
def names() -> Iterator[Names]:
    tool("nginx")  # skips here, saying why, where nginx is not installed
    with Names(dict(ADDRESSES)) as running:
        yield running


@pytest.fixture
async def front(
    names: Names,
    pipeline_settings: Settings,
    mongo_settings: Settings,
    warehouse: ChdbSink,
    tmp_path: Path,
) -> AsyncIterator[Front]:
    ports = {name: free_port(address) for name, address in ADDRESSES.items()}
    base = pipeline_settings.replace(mongo_url=mongo_settings.mongo.url, access_log="all")
    async with AsyncExitStack() as servers:
        for name, address in ADDRESSES.items():
            settings = base.replace(host=address, port=ports[name])
            await servers.enter_async_context(serving(name, settings, warehouse))
        with running_edge(tmp_path / "nginx", names, ports, free_port(), free_port()) as edge:
            yield Front(edge, names, base, ports, servers)


def client(base: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, verify=False, timeout=30)


def play(**extra: object) -> dict[str, object]:
    return {"type": "play", "film_id": FILM, "position_sec": 1, **extra}


async def test_each_api_is_reached_and_one_request_id_goes_end_to_end(
    front: Front, token_for: Callable[..., str], log_file: Path
) -> None:
    auth = {"Authorization": f"Bearer {token_for('nika')}"}
    async with client(front.edge.https) as edge:
        posted = await edge.post(
            "/api/v1/events", json=play(), headers={**auth, "X-Request-Id": "edge-trace-1"}
        )
        rated = await edge.put(f"/api/v1/films/{FILM}/rating", json={"score": 7}, headers=auth)
        resumed = await edge.get("/api/v1/analytics/users/me/resume", headers=auth)
        tracker = await edge.get("/sdk/tracker.js")
        docs = await edge.get("/openapi/content.json")

    assert [posted.status_code, rated.status_code, resumed.status_code] == [202, 200, 200]
    assert tracker.status_code == 200
    assert "javascript" in tracker.headers["content-type"]
    assert docs.status_code == 200, docs.text
    assert posted.headers.get_list("x-request-id") == ["edge-trace-1"]
    (logged,) = [r for r in front.nginx_log() if r["http"]["request"]["id"] == "edge-trace-1"]  # type: ignore[index]
    assert logged["url"] == {"path": "/api/v1/events"}
    app = [
        r
        for r in lines(log_file)
        if r.get("http", {}).get("request", {}).get("id") == "edge-trace-1"
    ]  # type: ignore[union-attr]
    assert app
    assert all(r["url"]["path"] == "/api/v1/events" for r in app)
    ((record, _),) = await read_events(
        front.settings.kafka.bootstrap or "", front.settings.kafka.topic, 1
    )
    assert dict(record.headers)["x-request-id"] == b"edge-trace-1"


async def test_nginx_logs_event_duration_in_nanoseconds_as_the_apis_do(
    front: Front, token_for: Callable[..., str], log_file: Path
) -> None:
    async with client(front.edge.https) as edge:
        await edge.post(
            "/api/v1/events",
            json=play(),
            headers={"Authorization": f"Bearer {token_for('nika')}", "X-Request-Id": "timed-1"},
        )
    (logged,) = [r for r in front.nginx_log() if r["http"]["request"]["id"] == "timed-1"]  # type: ignore[index]
    (app,) = [
        r for r in lines(log_file)
        if r.get("http", {}).get("request", {}).get("id") == "timed-1"  # type: ignore[union-attr]
    ]  # fmt: skip
    at_edge, inside = logged["event"]["duration"], app["event"]["duration"]  # type: ignore[index]
    assert isinstance(at_edge, int)
    assert isinstance(inside, int)
    # nginx measures to the millisecond, around the app's own time.
    assert at_edge == 0 or at_edge % 1_000_000 == 0
    assert at_edge + 1_000_000 >= inside


@pytest.mark.parametrize(
    "given", [None, b"has spaces in it", b"x" * 129, "\u00fcn\u00efcode".encode(), b'a"b']
)
async def test_a_missing_or_unacceptable_request_id_is_replaced_by_one_id(
    front: Front, token_for: Callable[..., str], given: bytes | None
) -> None:
    headers: dict[str, str | bytes] = {"Authorization": f"Bearer {token_for('nika')}"}
    if given is not None:
        headers["X-Request-Id"] = given
    async with client(front.edge.https) as edge:
        posted = await edge.post("/api/v1/events", json=play(), headers=headers)

    assert posted.status_code == 202
    (rid,) = posted.headers.get_list("x-request-id")
    assert NGINX_ID.match(rid), rid
    ((record, _),) = await read_events(
        front.settings.kafka.bootstrap or "", front.settings.kafka.topic, 1
    )
    assert dict(record.headers)["x-request-id"] == rid.encode()
    assert [r["http"]["request"]["id"] for r in front.nginx_log()] == [rid]  # type: ignore[index]


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert body["detail"]
    assert len(response.headers.get_list("x-request-id")) == 1
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    return body


async def test_nginx_refuses_as_problems_too_large_unknown_and_too_many(front: Front) -> None:
    async with client(front.edge.https) as edge:
        too_large = await edge.post("/api/v1/events", content=b"x" * (3 * 1024 * 1024))
        unknown = await edge.get("/wp-login.php")
        # 100 requests a second and a burst of 200 per address: waves until refused.
        many: list[httpx.Response] = []
        while len(many) < 4000 and all(r.status_code == 200 for r in many):
            many += await asyncio.gather(*(edge.get("/sdk/tracker.js") for _ in range(250)))

    assert "2 MiB" in str(assert_problem(too_large, 413)["detail"])
    assert_problem(unknown, 404)
    statuses = {r.status_code for r in many}
    assert statuses == {200, 429}
    assert sum(r.status_code == 200 for r in many) >= 200, "the burst is let through"
    refused = next(r for r in many if r.status_code == 429)
    assert_problem(refused, 429)
    assert refused.headers["retry-after"] == "1"


async def test_gzip_bodies_go_through_and_answers_come_back_gzipped(
    front: Front, token_for: Callable[..., str]
) -> None:
    body = gzip.compress(orjson.dumps({"events": [play(position_sec=s) for s in range(50)]}))
    headers = {
        "Authorization": f"Bearer {token_for('nika')}",
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }
    async with client(front.edge.https) as edge:
        posted = await edge.post("/api/v1/events", content=body, headers=headers)
        tracker = await edge.get("/sdk/tracker.js", headers={"Accept-Encoding": "gzip"})

    assert posted.status_code == 202, posted.text
    found = await read_events(front.settings.kafka.bootstrap or "", front.settings.kafka.topic, 50)
    assert sorted(e["position_sec"] for _, e in found) == list(range(50))
    assert tracker.headers["content-encoding"] == "gzip"


async def test_http_is_redirected_to_https_and_the_edge_answers_health(front: Front) -> None:
    async with client(front.edge.http) as plain:
        redirected = await plain.get("/api/v1/events?x=1")
        health = await plain.get("/healthz")

    assert redirected.status_code == 301
    assert redirected.headers["location"] == "https://127.0.0.1/api/v1/events?x=1"
    assert health.status_code == 200
    assert health.json()["status"] == "ready"  # the events API's own readiness


async def test_health_follows_the_events_api_and_liveness_is_nginx_alone(front: Front) -> None:
    await front.servers.aclose()  # the APIs go
    async with client(front.edge.http) as plain, client(front.edge.https) as tls:
        answers = [await plain.get("/healthz"), await tls.get("/healthz")]
        alive = [await plain.get("/livez"), await tls.get("/livez")]

    assert [a.status_code for a in answers] == [503, 503]
    assert "events API" in answers[0].json()["detail"]
    assert_problem(answers[1], 503)
    assert [a.status_code for a in alive] == [200, 200]


async def test_a_recreated_api_is_found_at_its_new_address(
    front: Front, warehouse: ChdbSink, token_for: Callable[..., str]
) -> None:
    auth = {"Authorization": f"Bearer {token_for('nika')}"}
    path = "/api/v1/analytics/users/me/resume"
    settings = front.settings.replace(host="127.0.0.9", port=front.ports["analytics"])
    async with client(front.edge.https) as edge:
        assert (await edge.get(path, headers=auth)).status_code == 200
        # The container goes; while it is gone nginx answers 503 with a reason.
        front.names.answers["analytics"] = "127.0.0.9"
        await front.servers.aclose()
        gone = await edge.get(path, headers=auth)
        assert_problem(gone, 503)
        assert gone.headers["retry-after"] == "2"
        # Its replacement, at another address, is found without reloading nginx.
        async with serving("analytics", settings, warehouse):
            statuses = []
            for _ in range(50):
                statuses.append((await edge.get(path, headers=auth)).status_code)
                if statuses[-1] == 200:
                    break
                await asyncio.sleep(0.1)
    assert statuses[-1] == 200, statuses
    assert "analytics" in front.names.asked


async def test_a_replica_replaced_while_players_post_costs_no_request(
    front: Front, warehouse: ChdbSink, token_for: Callable[..., str]
) -> None:
    """The rolling upgrade of docs/operations.md: a new replica joins, the old one
    drains and goes while events keep coming, and every one is accepted once."""
    auth = {"Authorization": f"Bearer {token_for('nika')}"}
    new = front.settings.replace(host="127.0.0.12", port=front.ports["events"])
    statuses: list[int] = []
    async with serving("events", new, warehouse), client(front.edge.https) as edge:

        async def post(positions: range) -> None:
            for position in positions:
                answer = await edge.post(
                    "/api/v1/events", json=play(position_sec=position), headers=auth
                )
                statuses.append(answer.status_code)

        front.names.answers["events"] = f"{ADDRESSES['events']},127.0.0.12"  # both replicas
        # nginx asks again at a request past its answer's second: post until it has.
        asked = front.names.asked.count("events")
        position = 0
        while front.names.asked.count("events") == asked:
            assert position < 400, "nginx never asked for the events API's name again"
            await post(range(position, position + 1))
            position += 1
        await post(range(position, 40))
        # The old replica is stopped (it drains what it holds) while players post ...
        await asyncio.gather(front.servers.aclose(), post(range(40, 120)))
        # ... and once removed, Docker's DNS stops naming it.
        front.names.answers["events"] = "127.0.0.12"
        await post(range(120, 160))

    assert statuses == [202] * 160
    found = await read_events(front.settings.kafka.bootstrap or "", front.settings.kafka.topic, 160)
    assert sorted(e["position_sec"] for _, e in found) == list(range(160))
