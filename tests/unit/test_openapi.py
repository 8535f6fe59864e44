"""The OpenAPI documents: every route once, its answers described by models."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo import AsyncMongoClient
from starlette.routing import Match

from ugc.analytics.api import router as analytics_router
from ugc.analytics.app import analytics_service
from ugc.analytics.queries import AnalyticsQueries
from ugc.auth import KeyMaterial, issue_token
from ugc.content.app import content_service
from ugc.events.app import events_service
from ugc.privacy.app import privacy_service
from ugc.settings import Settings
from ugc.web.service import Service

pytestmark = pytest.mark.unit


class NoSink:
    """The documents are built without a query ever running."""

    async def query(self, sql: str, parameters: Any = None) -> list[Any]:
        raise AssertionError("no query while building the docs")


class NoPublisher:
    async def publish(self, key: bytes, values: Any, headers: Any) -> None:
        raise AssertionError("nothing is published while building the docs")

    async def ready(self) -> bool:
        return True


def framework_matches(app: FastAPI, method: str, path: str) -> bool:
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    return any(route.matches(scope)[0] is Match.FULL for route in app.router.routes)


def schema_of(response: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema


def test_every_analytics_answer_is_a_documented_model(base_settings: Settings) -> None:
    queries = AnalyticsQueries(NoSink(), "db")  # type: ignore[arg-type]
    spec = analytics_service(base_settings, queries).api.openapi()

    routes = {p: item for p, item in spec["paths"].items() if p.startswith("/api/v1/analytics")}
    assert set(routes) == {route.path for route in analytics_router.routes}  # type: ignore[attr-defined]
    for path, item in routes.items():
        if "get" not in item:  # a hide: no body to describe
            assert set(item) == {"delete"}, path
            assert "204" in item["delete"]["responses"], path
            continue
        schema = schema_of(item["get"]["responses"]["200"])
        ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
        assert ref, path
        model = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        assert model["properties"], path
        assert model.get("additionalProperties") is False, path


def test_the_rating_summary_is_documented_once_beside_its_paths_other_methods(
    base_settings: Settings,
) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        "mongodb://127.0.0.1:9", connect=False
    )
    spec = content_service(base_settings, client).api.openapi()

    rating = spec["paths"]["/api/v1/films/{film_id}/rating"]
    assert set(rating) == {"get", "put", "delete"}
    summary = schema_of(rating["get"]["responses"]["200"])
    assert summary == {"$ref": "#/components/schemas/FilmRatingSummary"}
    assert "FilmRatingSummary" in spec["components"]["schemas"]
    app = content_service(base_settings, client).api
    path = f"/api/v1/films/{uuid.uuid4()}/rating"
    # GET is the direct endpoint's alone: the framework has no route for it.
    assert framework_matches(app, "GET", path) is False
    assert framework_matches(app, "PUT", path) is True


def test_the_events_endpoint_is_documented_by_the_same_mechanism(base_settings: Settings) -> None:
    spec = events_service(base_settings, NoPublisher()).api.openapi()

    intake = spec["paths"]["/api/v1/events"]["post"]
    assert schema_of(intake["responses"]["202"]) == {"$ref": "#/components/schemas/AcceptedEvents"}
    assert {"EventBatch", "AcceptedEvents", "Problem"} <= set(spec["components"]["schemas"])
    app = events_service(base_settings, NoPublisher()).api
    assert framework_matches(app, "POST", "/api/v1/events") is False  # served directly only


def statuses(spec: dict[str, Any], path: str, method: str) -> set[int]:
    return {int(s) for s in spec["paths"][path][method]["responses"]}


def test_every_route_documents_the_problems_it_can_answer(base_settings: Settings) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        "mongodb://127.0.0.1:9", connect=False
    )
    content = content_service(base_settings, client).api.openapi()
    queries = AnalyticsQueries(NoSink(), "db")  # type: ignore[arg-type]
    analytics = analytics_service(base_settings, queries).api.openapi()
    events = events_service(base_settings, NoPublisher()).api.openapi()

    assert statuses(content, "/api/v1/reviews/{review_id}", "patch") >= {
        401, 403, 404, 413, 422, 429, 503,
    }  # fmt: skip
    assert statuses(content, "/api/v1/films/{film_id}/reviews", "post") >= {409, 429, 503}
    assert statuses(content, "/api/v1/films/{film_id}/rating", "get") >= {401, 422, 503}
    assert statuses(analytics, "/api/v1/analytics/users/{user_ref}/resume", "get") >= {
        401, 403, 422, 503,
    }  # fmt: skip
    assert statuses(events, "/api/v1/view_progress/save", "post") >= {401, 403, 422, 503}
    for spec in (content, analytics, events):
        assert statuses(spec, "/readyz", "get") >= {200, 503}
        for item in spec["paths"].values():
            for op in item.values():
                for status, response in op["responses"].items():
                    if int(status) >= 400:  # every error is problem details, never FastAPI's
                        assert set(response["content"]) == {"application/problem+json"}
        assert "HTTPValidationError" not in spec["components"]["schemas"]


async def test_the_framework_variant_of_the_events_route_answers_the_same(
    base_settings: Settings, keys: KeyMaterial
) -> None:
    """`make bench-ingest` compares the direct route with this one; both must be
    the same endpoint, with the same answers."""
    token = issue_token(keys, subject=str(uuid.uuid4()), roles=[], ttl_s=60)
    answers = {}
    for direct in (True, False):
        service = events_service(base_settings, NoPublisher(), direct=direct)
        assert framework_matches(service.api, "POST", "/api/v1/events") is not direct
        transport = httpx.ASGITransport(app=service)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            anonymous = await client.post("/api/v1/events", json={"type": "play"})
            invalid = await client.post(
                "/api/v1/events",
                json={"type": "play"},
                headers={"Authorization": f"Bearer {token}"},
            )
        answers[direct] = [(a.status_code, a.json()["detail"]) for a in (anonymous, invalid)]

    assert answers[True] == answers[False]
    assert [status for status, _ in answers[True]] == [401, 422]


async def test_every_service_serves_its_docs_without_another_host(
    base_settings: Settings,
) -> None:
    for service in services_of(base_settings):
        name = service.kit.name
        transport = httpx.ASGITransport(app=service)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            page = await client.get(f"/docs/{name}")
            assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
            fetched = [await client.get(asset) for asset in assets]

        assert page.status_code == 200
        assert "https://" not in page.text  # nothing from a CDN
        assert sorted(a.rsplit("/", 1)[1] for a in assets) == [
            "favicon.png", "swagger-ui-bundle.js", "swagger-ui.css",
        ]  # fmt: skip
        assert all(a.startswith(f"/docs/{name}/assets/") for a in assets)
        assert [f.status_code for f in fetched] == [200, 200, 200]
        assert f"/openapi/{name}.json" in page.text


def services_of(settings: Settings) -> list[Service]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        "mongodb://127.0.0.1:9", connect=False
    )
    return [
        events_service(settings, NoPublisher()),
        content_service(settings, client),
        analytics_service(settings, AnalyticsQueries(NoSink(), "db")),  # type: ignore[arg-type]
        privacy_service(settings, client, NoSink()),  # type: ignore[arg-type]
    ]
