"""Analytics inputs an attacker or a careless client sends: every one a 4xx with a
reason, and no user id ever read as another user's, on embedded ClickHouse and
through the binding the server sink uses."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC

import httpx
import pytest
from clickhouse_connect.driver.query import QueryContext

from tests.conftest import user_id
from tests.integration.conftest import http_client
from ugc.analytics.app import open_analytics_service
from ugc.analytics.queries import AnalyticsQueries
from ugc.auth import KeyMaterial, issue_token
from ugc.settings import Settings
from ugc.warehouse.embedded import ChdbSink
from ugc.warehouse.migrations import migrate
from ugc.warehouse.sink import bound

pytestmark = pytest.mark.integration

FILM = str(uuid.uuid4())
HOSTILE = [
    "victim\\x41abc",
    "trailing\\",
    "tab\there",
    "new\nline",
    "quote'and`tick",
    "nul\x00byte",
    "\\N",
    "\\\\x41",
    "ünïcødé \U0001f600",
]


@pytest.fixture
async def client(
    pipeline_settings: Settings, warehouse: ChdbSink
) -> AsyncIterator[httpx.AsyncClient]:
    async for c in http_client(open_analytics_service(pipeline_settings, sink=warehouse)):
        yield c


async def insert_play(sink: ChdbSink, database: str, user: str, position: float) -> None:
    await sink.execute(
        f"INSERT INTO {database}.events (event_id, type, user_id, film_id, schema_version, "
        f"received_at, occurred_at, position_sec) VALUES (generateUUIDv4(), 'play', "
        f"'{user}', '{FILM}', 1, now64(6), now64(6), {position})"
    )


async def test_an_escaped_user_id_never_reads_the_user_it_unescapes_to(
    pipeline_settings: Settings, warehouse: ChdbSink
) -> None:
    database = pipeline_settings.clickhouse.database
    await migrate(warehouse, pipeline_settings.clickhouse)
    await insert_play(warehouse, database, "victimAabc", 1234)
    queries = AnalyticsQueries(warehouse, database)

    assert [p.position_sec for p in await queries.resume_points("victimAabc", 10)] == [1234]
    assert await queries.resume_points("victim\\x41abc", 10) == []
    assert (await queries.distinct_films("victim\\x41abc")).films == 0


@pytest.mark.parametrize("value", HOSTILE)
async def test_a_string_parameter_reaches_clickhouse_as_it_was_sent(
    warehouse: ChdbSink, value: str
) -> None:
    sql = "SELECT {s:String} AS s"
    (row,) = await warehouse.query(sql, {"s": value})

    assert row["s"] == value
    # The server sink binds through clickhouse-connect's query context: the same
    # values go over the wire as the embedded sink hands to chdb.
    context = QueryContext(query=sql, parameters={"s": value}, server_tz=UTC)
    _, ours = bound(sql, {"s": value})
    assert {k.removeprefix("param_"): v for k, v in context.bind_params.items()} == ours


async def test_a_token_whose_subject_is_not_a_uuid_is_refused(
    client: httpx.AsyncClient, keys: KeyMaterial
) -> None:
    for subject in (
        "victim\\x41abc",
        "tab\there",
        "a" * 36,
        "3FA85F64-5717-4562-B3FC-2C963F66AFA6\n",
    ):
        token = issue_token(keys, subject=subject, roles=[], ttl_s=60)
        response = await client.get(
            "/api/v1/analytics/users/me/resume", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401, subject
        assert "UUID" in response.json()["detail"]


async def test_a_uuid_in_capitals_is_the_same_user_as_in_lower_case(
    client: httpx.AsyncClient,
    keys: KeyMaterial,
    pipeline_settings: Settings,
    warehouse: ChdbSink,
) -> None:
    lower = str(uuid.uuid4())
    await insert_play(warehouse, pipeline_settings.clickhouse.database, lower, 77)
    token = issue_token(keys, subject=lower.upper(), roles=[], ttl_s=60)

    response = await client.get(
        "/api/v1/analytics/users/me/resume", headers={"Authorization": f"Bearer {token}"}
    )

    assert [r["position_sec"] for r in response.json()] == [77]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/analytics/users/%09/films/count",
        "/api/v1/analytics/users/abc%5C/films/count",
        "/api/v1/analytics/users/victim%5Cx41abc/resume",
        f"/api/v1/analytics/users/not-a-uuid/films/{FILM}/max-position",
    ],
)
async def test_a_user_ref_that_is_no_user_id_is_422_even_for_an_analyst(
    client: httpx.AsyncClient, token_for: Callable[..., str], path: str
) -> None:
    analyst = {"Authorization": f"Bearer {token_for('carol', roles=['analyst'])}"}

    response = await client.get(path, headers=analyst)

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "user_ref"


async def test_another_users_data_needs_the_analyst_role(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    bob = {"Authorization": f"Bearer {token_for('bob')}"}
    alice = user_id("alice")

    own = await client.get(f"/api/v1/analytics/users/{user_id('bob')}/films/count", headers=bob)
    other = await client.get(f"/api/v1/analytics/users/{alice}/films/count", headers=bob)

    assert own.status_code == 200
    assert other.status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        {"until": "0001-01-01"},
        {"since": "0001-01-01"},
        {"until": "9999-12-31"},
        {"since": "1969-12-31", "until": "1970-01-02"},
        {"since": "2026-02-01", "until": "2026-01-01"},
    ],
)
@pytest.mark.parametrize(
    "path", ["/api/v1/analytics/films/top", f"/api/v1/analytics/films/{FILM}/stats"]
)
async def test_days_clickhouse_cannot_store_are_422(
    client: httpx.AsyncClient, token_for: Callable[..., str], path: str, query: dict[str, str]
) -> None:
    response = await client.get(
        path, params=query, headers={"Authorization": f"Bearer {token_for('dave')}"}
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] in {"since", "until"}


async def test_the_first_storable_day_is_a_period_of_its_own(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """30 days before 1970-01-05 would be before what ClickHouse stores: the
    default period starts on the first day instead."""
    response = await client.get(
        f"/api/v1/analytics/films/{FILM}/stats",
        params={"until": "1970-01-05"},
        headers={"Authorization": f"Bearer {token_for('dave')}"},
    )

    assert response.status_code == 200, response.text
    assert (response.json()["since"], response.json()["until"]) == ("1970-01-01", "1970-01-05")
