"""What no route answers is still problem details: on each API and on `ugc dev`'s
root, where the three share one port."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.unit.test_openapi import services_of
from ugc.settings import Settings
from ugc.web.server import CombinedServices

pytestmark = pytest.mark.unit


async def answers(app: Any) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ugc.test") as client:
        return [
            await client.get("/nope"),
            await client.get("/"),
            await client.post("/healthz"),
            await client.delete("/api/v1/events"),
        ]


@pytest.mark.parametrize("which", [0, 1, 2, "combined"])
async def test_unknown_paths_and_methods_are_problem_details(
    base_settings: Settings, which: int | str
) -> None:
    made = services_of(base_settings)
    app = CombinedServices(made, base_settings) if which == "combined" else made[int(which)]

    found = await answers(app)

    assert [r.status_code for r in found[:3]] == [404, 404, 405]
    assert found[3].status_code in {404, 405}
    for response in found:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]
        assert response.headers["x-request-id"]
