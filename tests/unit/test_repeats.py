"""Repeated log lines thinned to one per key and interval, with a count."""

from __future__ import annotations

import logging

import pytest

from tests.unit.clock import Clock
from ugc.observability.http import RequestObserver
from ugc.observability.repeats import Repeats
from ugc.observability.scope import ROUTE

pytestmark = pytest.mark.unit


def test_one_line_per_key_and_interval_then_the_count_of_those_left_out() -> None:
    clock = Clock()
    repeats = Repeats(interval_s=10, clock=clock)

    assert repeats.take("alice") == 0
    assert [repeats.take("alice") for _ in range(500)] == [None] * 500
    assert repeats.take("bob") == 0  # another client is logged at once
    clock.now += 10
    assert repeats.take("alice") == 500
    assert repeats.take("alice") is None


def test_the_memory_of_keys_is_bounded() -> None:
    clock = Clock()
    repeats = Repeats(interval_s=10, size=3, clock=clock)
    for key in range(10):
        assert repeats.take(key) == 0

    assert repeats.take(0) == 0  # forgotten, so logged again
    assert repeats.take(9) is None


def test_a_client_over_its_quota_makes_one_access_line(caplog: pytest.LogCaptureFixture) -> None:
    observer = RequestObserver(service="events", access_log="errors")
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/events",
        "headers": [],
        "client": ("203.0.113.7", 5555),
        ROUTE: "/api/v1/events",
    }
    with caplog.at_level(logging.INFO, logger="ugc.access"):
        for _ in range(200):
            observer.close(scope, observer.open(scope), 429)
        observer.close(scope, observer.open(scope), 400)

    statuses = [record.getMessage().split()[2] for record in caplog.records]
    assert statuses == ["429", "400"]
