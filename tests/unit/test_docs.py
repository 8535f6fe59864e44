"""docs/api.md lists every route the APIs register, with the statuses their
OpenAPI documents say they answer: a route added or changed without its line
fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_openapi import services_of
from ugc.settings import Settings

pytestmark = pytest.mark.unit

API_DOC = Path(__file__).parents[2] / "docs" / "api.md"
ROW = re.compile(r"^\| `(?P<method>[A-Z]+) (?P<path>\S+)` \|[^|]*\|[^|]*\| (?P<codes>[0-9, ]+) \|$")


def documented() -> dict[tuple[str, str], set[str]]:
    rows = (ROW.match(line) for line in API_DOC.read_text().splitlines())
    return {(m["method"], m["path"]): set(m["codes"].split(", ")) for m in rows if m}


def test_every_route_is_in_the_api_doc_with_its_statuses(base_settings: Settings) -> None:
    found = documented()
    routes: dict[tuple[str, str], set[str]] = {}
    for service in services_of(base_settings):
        paths: dict[str, Any] = service.api.openapi()["paths"]
        for path, item in paths.items():
            for method, operation in item.items():
                routes[method.upper(), path] = set(operation["responses"])

    assert set(routes) <= set(found), sorted(set(routes) - set(found))
    for route, codes in routes.items():
        assert found[route] == codes, route
