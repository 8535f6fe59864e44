"""The event intake over the real local broker: what a 2xx promises, and every 4xx."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import orjson
import pytest

from tests.integration.conftest import http_client, read_events, read_topic
from ugc.events.app import open_events_service
from ugc.settings import Settings

pytestmark = pytest.mark.integration

USER = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
FILM = "6b0b7e92-07e4-48ad-b93c-808a0d3c1f2e"


def play(**overrides: Any) -> dict[str, Any]:
    return {"type": "play", "film_id": FILM, "position_sec": 12.5, **overrides}


@pytest.fixture
async def client(kafka_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for c in http_client(open_events_service(kafka_settings)):
        yield c


@pytest.fixture
def auth(token_for: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(USER)}"}


async def test_a_posted_event_comes_out_of_the_topic_keyed_by_user(
    client: httpx.AsyncClient, auth: dict[str, str], kafka_settings: Settings
) -> None:
    event_id = str(uuid.uuid4())
    sent = play(event_id=event_id, timestamp="2026-11-29T10:00:00Z", sent_at="2026-11-29T10:00:05Z")

    response = await client.post(
        "/api/v1/events", json=sent, headers={**auth, "X-Request-Id": "req-1"}
    )

    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 1, "rejected": 0, "errors": []}
    assert response.headers["x-request-id"] == "req-1"
    ((record, value),) = await read_events(
        kafka_settings.kafka.bootstrap or "", kafka_settings.kafka.topic, 1
    )
    assert record.key == USER.encode()
    assert value["event_id"] == event_id
    assert value["user_id"] == USER
    assert value["type"] == "play"
    assert value["film_id"] == FILM
    assert value["position_sec"] == 12.5
    assert value["schema_version"] == 1
    assert value["timestamp"] == "2026-11-29T10:00:00+00:00"
    # The client clock ran 5 s between timestamp and sent_at; occurred_at keeps that gap
    # before the server's received_at.
    assert value["occurred_at"] < value["received_at"]
    assert dict(record.headers)["x-request-id"] == b"req-1"


async def test_the_server_assigns_time_ordered_ids_when_the_client_sends_none(
    client: httpx.AsyncClient, auth: dict[str, str], kafka_settings: Settings
) -> None:
    response = await client.post("/api/v1/events", json={"events": [play(), play()]}, headers=auth)

    assert response.status_code == 202
    events = await read_events(kafka_settings.kafka.bootstrap or "", kafka_settings.kafka.topic, 2)
    ids = [uuid.UUID(value["event_id"]) for _, value in events]
    assert len(set(ids)) == 2
    assert ids == sorted(ids)  # in the order they were sent
    assert all(i.version == 7 for i in ids)


async def test_a_mixed_batch_accepts_only_the_valid_events(
    client: httpx.AsyncClient, auth: dict[str, str], kafka_settings: Settings
) -> None:
    batch = {
        "events": [
            play(),
            {"type": "teleport", "film_id": FILM},
            play(position_sec=-3),
            {"type": "search", "query": "alien"},
            play(user_id="someone-else"),
        ]
    }

    response = await client.post("/api/v1/events", json=batch, headers=auth)

    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 2
    assert body["rejected"] == 3
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (1, "type"),
        (2, "position_sec"),
        (4, "user_id"),
    ]
    events = await read_events(kafka_settings.kafka.bootstrap or "", kafka_settings.kafka.topic, 2)
    # The events of one request share one record, in the order they were sent.
    assert [value["type"] for _, value in events] == ["play", "search"]
    assert len({record.offset for record, _ in events}) == 1


async def test_a_batch_with_no_valid_event_is_422_and_publishes_nothing(
    client: httpx.AsyncClient, auth: dict[str, str], kafka_settings: Settings
) -> None:
    response = await client.post(
        "/api/v1/events", json={"events": [{"type": "play"}, {"type": "nope"}]}, headers=auth
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {e["index"] for e in response.json()["errors"]} == {0, 1}
    assert (
        await read_topic(kafka_settings.kafka.bootstrap or "", kafka_settings.kafka.topic, 0, 1)
        == []
    )


async def test_gzip_bodies_and_sendbeacon_text_plain_are_accepted(
    client: httpx.AsyncClient, auth: dict[str, str], kafka_settings: Settings
) -> None:
    zipped = gzip.compress(orjson.dumps({"events": [play(), play()]}))
    gz = await client.post(
        "/api/v1/events",
        content=zipped,
        headers={**auth, "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    beacon = await client.post(
        "/api/v1/events",
        content=orjson.dumps(play()),
        headers={**auth, "Content-Type": "text/plain;charset=UTF-8"},
    )

    assert gz.status_code == 202
    assert gz.json()["accepted"] == 2
    assert beacon.status_code == 204
    assert beacon.content == b""
    events = await read_events(kafka_settings.kafka.bootstrap or "", kafka_settings.kafka.topic, 3)
    assert len(events) == 3


async def test_the_prototype_endpoint_still_works_with_the_user_from_the_token(
    client: httpx.AsyncClient, auth: dict[str, str], kafka_settings: Settings
) -> None:
    ok = await client.post(
        "/api/v1/view_progress/save", json={"film_id": FILM, "viewed_frame": 42}, headers=auth
    )
    spoofed = await client.post(
        "/api/v1/view_progress/save",
        json={"film_id": FILM, "viewed_frame": 42, "user_id": "victim"},
        headers=auth,
    )
    bad_id = await client.post(
        "/api/v1/view_progress/save", json={"film_id": "123", "viewed_frame": 42}, headers=auth
    )
    huge = await client.post(
        "/api/v1/view_progress/save",
        content=b'{"film_id": "%s", "viewed_frame": 1%s}' % (FILM.encode(), b"0" * 400),
        headers={**auth, "Content-Type": "application/json"},
    )

    assert ok.status_code == 200
    assert spoofed.status_code == 403
    assert bad_id.status_code == 422
    assert bad_id.json()["errors"][0]["field"] == "film_id"
    assert huge.status_code == 422
    assert huge.json()["errors"][0]["field"] == "viewed_frame"
    ((_, value),) = await read_events(
        kafka_settings.kafka.bootstrap or "", kafka_settings.kafka.topic, 1
    )
    assert (value["type"], value["position_sec"], value["user_id"]) == ("view_progress", 42, USER)


@pytest.mark.parametrize(
    ("content", "headers", "status", "phrase"),
    [
        (b'{"type": "play",', {"Content-Type": "application/json"}, 400, "not valid JSON"),
        (b"", {"Content-Type": "application/json"}, 400, "empty"),
        (b"[1, 2]", {"Content-Type": "application/json"}, 422, "event object"),
        (
            b"not gzip",
            {"Content-Type": "application/json", "Content-Encoding": "gzip"},
            400,
            "gzip",
        ),
        (b"{}", {"Content-Type": "application/json", "Content-Encoding": "br"}, 415, "br"),
        (b"{}", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "application/json"),
        (
            gzip.compress(b" " * 5_000_000),
            {"Content-Type": "application/json", "Content-Encoding": "gzip"},
            400,
            "decompression bomb",
        ),
        (b"{" + b" " * (1024 * 1024) + b"}", {"Content-Type": "application/json"}, 413, "limit"),
        (
            orjson.dumps(
                {
                    "type": "play",
                    "film_id": FILM,
                    "position_sec": 1,
                    "timestamp": "0001-01-01T00:00:00+03:00",
                    "sent_at": "9999-12-31T23:59:59Z",
                }
            ),
            {"Content-Type": "application/json"},
            422,
            "No event",
        ),
    ],
    ids=[
        "bad-json",
        "empty",
        "not-an-object",
        "bad-gzip",
        "unknown-encoding",
        "form",
        "gzip-bomb",
        "too-big",
        "impossible-times",
    ],
)
async def test_bad_bodies_get_a_clear_4xx(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    content: bytes,
    headers: dict[str, str],
    status: int,
    phrase: str,
) -> None:
    response = await client.post("/api/v1/events", content=content, headers={**auth, **headers})

    assert response.status_code == status, response.text
    assert phrase in response.json()["detail"]


async def test_over_the_decompressed_limit_is_413(
    kafka_settings: Settings, auth: dict[str, str]
) -> None:
    settings = kafka_settings.replace(max_decompressed_bytes=64 * 1024)
    body = gzip.compress(orjson.dumps({"events": [play(page="x" * 100)] * 1000}))
    async for client in http_client(open_events_service(settings)):
        response = await client.post(
            "/api/v1/events",
            content=body,
            headers={**auth, "Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
        assert response.status_code == 413
        assert "decompressed" in response.json()["detail"]


async def test_a_batch_over_the_event_limit_is_413(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    response = await client.post("/api/v1/events", json={"events": [play()] * 1001}, headers=auth)

    assert response.status_code == 413
    assert "1000" in response.json()["detail"]


@pytest.mark.parametrize(
    ("make_header", "phrase"),
    [
        (lambda t: None, "Send an access token"),
        (lambda t: "Basic abc", "Bearer"),
        (lambda t: "Bearer not-a-jwt", "not valid"),
        (lambda t: "Bearer " + t(USER, ttl_s=-120), "expired"),
        (lambda t: "Bearer " + t(USER)[:-4] + "AAAA", "signature"),
    ],
    ids=["missing", "wrong-scheme", "malformed", "expired", "bad-signature"],
)
async def test_bad_tokens_get_401_with_a_reason(
    client: httpx.AsyncClient,
    token_for: Callable[..., str],
    make_header: Callable[[Callable[..., str]], str | None],
    phrase: str,
) -> None:
    header = make_header(token_for)
    headers = {"Authorization": header} if header else {}

    response = await client.post("/api/v1/events", json=play(), headers=headers)

    assert response.status_code == 401
    assert phrase in response.json()["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_health_readiness_and_the_served_schema(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).status_code == 200
    schema = (await client.get("/api/v1/events/schema")).json()
    assert schema["x-schema-version"] == 1
    assert "view_progress" in orjson.dumps(schema).decode()
    openapi = (await client.get("/openapi/events.json")).json()
    assert "/api/v1/events" in openapi["paths"]


async def test_other_methods_on_the_intake_path_are_405(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/events")

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
