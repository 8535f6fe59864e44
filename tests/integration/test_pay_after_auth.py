"""Nothing is paid for a caller before they are known: a body that carries its own
token (a beacon's) is read no further, no longer and no more decoded than a
browser's beacon needs, over the real server."""

from __future__ import annotations

import asyncio
import gzip
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

import httpx
import orjson
import pytest
from prometheus_client import REGISTRY

from tests.integration.conftest import http_client, real_server
from ugc.content.app import open_content_service
from ugc.devstack.processes import free_port
from ugc.events.app import open_events_service
from ugc.events.body import BEACON_MAX_BYTES, BEACON_READ_S
from ugc.settings import Settings
from ugc.web.service import Service

pytestmark = pytest.mark.integration

TEXT = {"Content-Type": "text/plain;charset=UTF-8"}


def beacon(token: str, *, pad: int = 0) -> bytes:
    event = {"type": "play", "film_id": str(uuid.uuid4()), "position_sec": 1.0}
    events = [event] + [{**event, "position_sec": 2.0, "event_id": str(uuid.uuid4())}] * pad
    return orjson.dumps({"access_token": token, "events": events})


async def test_a_beacon_is_bounded_as_a_browser_sends_it(
    kafka_settings: Settings, token_for: Callable[..., str]
) -> None:
    token = token_for("bea")
    plain = beacon(token)
    async for client in http_client(open_events_service(kafka_settings)):
        sent = await client.post("/api/v1/events", content=plain, headers=TEXT)
        zipped = await client.post(
            "/api/v1/events",
            content=gzip.compress(plain),
            headers={**TEXT, "Content-Encoding": "gzip"},
        )
        big = beacon(token, pad=1000)
        too_big = await client.post("/api/v1/events", content=big, headers=TEXT)
        # With the token in the header the same body is an ordinary request.
        headed = await client.post(
            "/api/v1/events",
            content=gzip.compress(orjson.dumps({"events": orjson.loads(big)["events"][:1000]})),
            headers={
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
                "Authorization": f"Bearer {token}",
            },
        )

    assert sent.status_code == 204
    assert zipped.status_code == 415
    assert "uncompressed" in zipped.json()["detail"]
    assert len(big) > BEACON_MAX_BYTES
    assert too_big.status_code == 413
    assert headed.status_code == 202, headed.text


async def test_a_slow_beacon_is_answered_408_long_before_the_read_timeout(
    kafka_settings: Settings, token_for: Callable[..., str]
) -> None:
    settings = kafka_settings.replace(port=free_port(), read_timeout_s=30.0)

    @asynccontextmanager
    async def services() -> AsyncIterator[Sequence[Service]]:
        async with open_events_service(settings) as events:
            yield [events]

    body = beacon(token_for("slow"))
    async with real_server(services, settings):
        reader, writer = await asyncio.open_connection("127.0.0.1", settings.http.port)
        try:
            writer.write(
                b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body) + body[:10]
            )
            await writer.drain()
            # The connection's own read timeout is 30 s: an answer within 10 is the beacon's.
            answer = await asyncio.wait_for(reader.read(4096), timeout=10)
        finally:
            writer.close()

    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert f"must arrive within {BEACON_READ_S:g} s".encode() in answer


async def test_a_write_with_no_valid_token_is_401_before_its_body_is_read(
    mongo_settings: Settings, token_for: Callable[..., str]
) -> None:
    """A stranger's slow JSON body on a content write holds nothing: the answer
    comes though the body never does."""
    settings = mongo_settings.replace(port=free_port(), read_timeout_s=30.0)

    @asynccontextmanager
    async def services() -> AsyncIterator[Sequence[Service]]:
        async with open_content_service(settings) as content:
            yield [content]

    path = f"/api/v1/films/{uuid.uuid4()}/rating"
    answers = []
    async with real_server(services, settings):
        for authorization in (b"", b"Authorization: Bearer not-a-token\r\n"):
            reader, writer = await asyncio.open_connection("127.0.0.1", settings.http.port)
            try:
                writer.write(
                    b"PUT %b HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"%bContent-Length: 100\r\n\r\n{" % (path.encode(), authorization)
                )
                await writer.drain()
                answers.append(await asyncio.wait_for(reader.read(4096), timeout=10))
            finally:
                writer.close()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.http.port}") as client:
            auth = {"Authorization": f"Bearer {token_for('kept')}"}
            rated = await client.put(path, json={"score": 4}, headers=auth)

    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert rated.status_code == 200  # a known caller's body is read as before


async def test_a_flood_of_slow_strangers_does_not_starve_known_callers(
    kafka_settings: Settings, token_for: Callable[..., str]
) -> None:
    """600 beacons whose bodies never arrive, from one address, against a server
    that works on at most 32 requests: the strangers get their own small share,
    and 200 signed-in requests meanwhile are all accepted."""
    settings = kafka_settings.replace(
        port=free_port(), max_in_flight=32, max_anonymous_per_client=8
    )

    @asynccontextmanager
    async def services() -> AsyncIterator[Sequence[Service]]:
        async with open_events_service(settings) as events:
            yield [events]

    head = (
        b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
        b"Content-Length: 1000\r\n\r\n{"
    )
    auth = {"Authorization": f"Bearer {token_for('known')}"}
    event = {"type": "play", "film_id": str(uuid.uuid4()), "position_sec": 1.0}
    refused_before = REGISTRY.get_sample_value("ugc_http_strangers_refused_total") or 0
    async with real_server(services, settings) as base:
        slow = []
        for _ in range(600):
            reader, writer = await asyncio.open_connection("127.0.0.1", settings.http.port)
            writer.write(head)
            slow.append((reader, writer))
        try:
            known = []
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                for _ in range(20):  # ten at a time: well within the 32 in flight
                    known += await asyncio.gather(
                        *(
                            client.post("/api/v1/events", json=event, headers=auth)
                            for _ in range(10)
                        )
                    )
            strangers = await asyncio.gather(
                *(asyncio.wait_for(reader.read(200), timeout=15) for reader, _ in slow)
            )
        finally:
            for _, writer in slow:
                writer.close()

    assert [a.status_code for a in known] == [202] * 200
    statuses = [answer[9:12] for answer in strangers]
    assert statuses.count(b"503") >= 600 - 8  # refused at once, past their share
    assert set(statuses) <= {b"503", b"408"}  # the admitted few waited out their 2 s
    refused = (REGISTRY.get_sample_value("ugc_http_strangers_refused_total") or 0) - refused_before
    assert refused == statuses.count(b"503")  # counted apart from the shed of known callers
