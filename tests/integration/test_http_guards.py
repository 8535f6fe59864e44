"""The HTTP edge of every API, over real sockets to the real server: headers
capped (431), slow and silent clients cut off (408), bodies capped (413), and
answered requests leaving nothing behind."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import re
import uuid
from collections.abc import AsyncIterator, Callable, Sequence

import httpx
import orjson
import pytest

from tests.integration.conftest import http_client, real_server
from ugc.content.app import open_content_service
from ugc.devstack.processes import free_port
from ugc.events.app import open_events_service
from ugc.settings import Settings
from ugc.web.service import Service

pytestmark = pytest.mark.integration

READ_TIMEOUT_S = 0.5


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[int]:
    """The content API behind the real server (uvicorn, with ugc's protocol)."""
    port = free_port()
    settings = settings.replace(port=port, read_timeout_s=READ_TIMEOUT_S, max_header_bytes=16_384)

    @contextlib.asynccontextmanager
    async def services() -> AsyncIterator[Sequence[Service]]:
        async with open_content_service(settings) as service:
            yield [service]

    async with real_server(services, settings):
        yield port


async def exchange(port: int, data: bytes, *, wait_s: float = 5.0) -> bytes:
    """Send `data`, then read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), wait_s)
    finally:
        writer.close()


def status_and_problem(raw: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), orjson.loads(body)


async def test_an_8_mb_header_is_431_before_it_is_parsed(mongo_settings: Settings) -> None:
    async with serving(mongo_settings) as port:
        big = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8_000_000 + b"\r\n\r\n"
        status, problem = status_and_problem(await exchange(port, big))
        # Refused on the way in: the answer comes though the head never ends.
        unended = await exchange(port, b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 20_000)
        fine = await exchange(
            port,
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Ok: " + b"a" * 15_000 + b"\r\n"
            b"Connection: close\r\n\r\n",
        )

    assert status == 431
    assert "headers" in str(problem["detail"])
    assert unended.startswith(b"HTTP/1.1 431")
    assert fine.startswith(b"HTTP/1.1 200")


async def test_slow_and_silent_clients_are_answered_408_and_disconnected(
    mongo_settings: Settings, token_for: Callable[..., str]
) -> None:
    token = token_for("slow").encode()
    async with serving(mongo_settings) as port:
        silent = await exchange(port, b"")
        slow = await exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never ends
        # A known caller's body that stops coming (a stranger's is 401 unread).
        half_body = await exchange(
            port,
            b"PUT /api/v1/films/x/rating HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
            b"\r\nAuthorization: Bearer %b\r\nContent-Length: 100\r\n\r\n{" % token,
        )

    for raw in (silent, slow, half_body):
        status, problem = status_and_problem(raw)
        assert status == 408
        assert "whole" in str(problem["detail"])


async def test_a_half_sent_request_after_a_kept_alive_one_is_answered_408(
    mongo_settings: Settings,
) -> None:
    """The second request of a kept-alive connection is held to the same deadline,
    and told so: the first one's finished answer is no reason to close silently."""
    async with serving(mongo_settings) as port:
        raw = await exchange(
            port,
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"  # answered, connection kept
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n",  # never ends
        )

    first, _, rest = raw.partition(b"HTTP/1.1 408")
    assert first.startswith(b"HTTP/1.1 200")
    assert rest, "the half-sent request was closed without its 408"
    assert b"whole" in rest


async def test_two_hundred_slow_loris_connections_are_all_closed(
    mongo_settings: Settings,
) -> None:
    async with serving(mongo_settings) as port:
        streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(200)]
        for _, writer in streams:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: b")
        answers = await asyncio.gather(
            *(asyncio.wait_for(reader.read(), 15) for reader, _ in streams)
        )
        for _, writer in streams:
            writer.close()
        # The server still serves others as it did.
        ok = await exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")

    assert all(answer.startswith(b"HTTP/1.1 408") for answer in answers)
    assert ok.startswith(b"HTTP/1.1 200")


@pytest.fixture
async def client(mongo_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for c in http_client(open_content_service(mongo_settings)):
        yield c


async def test_a_body_over_the_limit_is_413_declared_or_streamed(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    auth = {"Authorization": f"Bearer {token_for('erin')}", "Content-Type": "application/json"}
    path = f"/api/v1/films/{uuid.uuid4()}/reviews"
    huge = b'{"text": "' + b"x" * 50_000_000 + b'"}'

    declared = await client.post(path, content=huge, headers=auth)

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(100):
            yield b"y" * 1024
        yield b'"}'

    streamed = await client.post(path, content=chunks(), headers=auth)
    fits = await client.post(path, json={"text": "A review that fits well within."}, headers=auth)

    for response in (declared, streamed):
        assert response.status_code == 413, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "65536 bytes" in response.json()["detail"]
    assert fits.status_code == 201


async def test_answers_with_no_body_100_continue_and_pipelined_requests_arrive_whole(
    mongo_settings: Settings, token_for: Callable[..., str]
) -> None:
    """The head of each answer is held for its body (OneWrite): answers without a
    body, a 100 Continue before the body is sent, and answers to pipelined
    requests must still come out whole and in order. A stranger is not asked for
    the body at all."""
    path = f"/api/v1/films/{uuid.uuid4()}/rating".encode()
    expect = (
        b"PUT %b HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 13\r\nExpect: 100-continue\r\n" % path
    )
    async with serving(mongo_settings) as port:
        head = await exchange(
            port, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        stranger = await exchange(port, expect + b"Connection: close\r\n\r\n")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(expect + b"Authorization: Bearer %b\r\n\r\n" % token_for("ann").encode())
            await writer.drain()
            go_on = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            writer.write(b'{"score": 5}\n')
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 2)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            await writer.drain()
            rest = await asyncio.wait_for(reader.read(), 5)
        finally:
            writer.close()

    # HEAD is not a method of /healthz: a head (content-length 94) and no body.
    assert head.startswith(b"HTTP/1.1 405 Method Not Allowed\r\n")
    assert b"content-length: 94\r\n" in head
    assert head.endswith(b"\r\n\r\n")
    assert stranger.startswith(b"HTTP/1.1 401")  # no 100 Continue: the body is not wanted
    assert go_on == b"HTTP/1.1 100 Continue\r\n\r\n"
    answers = rest.split(b"HTTP/1.1 ")[1:]
    assert [a.split(b" ", 1)[0] for a in answers] == [b"200", b"200", b"200", b"200"]
    assert all(a.endswith(b"}") for a in answers)


REQUESTS = 400


@pytest.mark.parametrize("route", ["direct", "framework"])
async def test_answered_requests_leave_nothing_for_the_garbage_collector(
    kafka_settings: Settings, token_for: Callable[..., str], route: str
) -> None:
    """A request's objects are freed as its answer goes out. What is caught in a
    reference cycle waits for the cyclic collector, whose passes every request
    then pays for: a cycle through the response writer once left a dozen
    objects a request and cost a tenth of the events API's CPU; the schema route
    left two hundred, building the schema again for each request."""
    origin = "https://cinema.example"
    settings = kafka_settings.replace(port=free_port(), cors_origins=[origin])
    auth = b"Origin: %b\r\nAuthorization: Bearer %b\r\n" % (
        origin.encode(),
        token_for("gc").encode(),
    )
    if route == "direct":
        body = orjson.dumps({"type": "play", "film_id": str(uuid.uuid4()), "position_sec": 1})
        request = b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\n%bContent-Length: %d\r\n" % (
            auth,
            len(body),
        )
        request += b"Content-Type: application/json\r\n\r\n" + body
    else:
        request = b"GET /api/v1/events/schema HTTP/1.1\r\nHost: x\r\n%b\r\n" % auth

    @contextlib.asynccontextmanager
    async def services() -> AsyncIterator[Sequence[Service]]:
        async with open_events_service(settings) as service:
            yield [service]

    async with real_server(services, settings):
        reader, writer = await asyncio.open_connection("127.0.0.1", settings.http.port)

        async def exchange_one() -> bytes:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
            assert length is not None, head
            await reader.readexactly(int(length[1]))
            return head

        try:
            for _ in range(20):  # the caches and the producer's first batches
                await exchange_one()
            gc.collect()
            gc.disable()
            try:
                heads = [await exchange_one() for _ in range(REQUESTS)]
                left = gc.collect()
            finally:
                gc.enable()
        finally:
            writer.close()

    assert all(head.split(b" ", 2)[1] in {b"200", b"202"} for head in heads), heads[0]
    assert b"access-control-allow-origin: " + origin.encode() in heads[-1]
    assert left < REQUESTS / 4, f"{left} objects in cycles after {REQUESTS} requests"
