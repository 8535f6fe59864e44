from __future__ import annotations

import pytest

from tests.unit.clock import Clock
from ugc.errors import OverQuota
from ugc.problems import ProblemRegistry
from ugc.web.quota import TokenBuckets

pytestmark = pytest.mark.unit


def test_a_burst_then_the_refill_rate() -> None:
    clock = Clock()
    quota = TokenBuckets(per_second=1, burst=2, clock=clock)

    assert [quota.take("u"), quota.take("u")] == [None, None]
    assert quota.take("u") == pytest.approx(1.0)
    assert quota.take("other") is None
    clock.now += 1.0
    assert quota.take("u") is None
    assert quota.take("u") == pytest.approx(1.0)


def test_a_cost_is_taken_whole_or_not_at_all_and_capped_at_the_burst() -> None:
    clock = Clock()
    events = TokenBuckets(per_second=100, burst=2000, clock=clock)

    assert events.take("player", 1500) is None
    assert events.take("player", 1000) == pytest.approx(5.0)  # 500 left, 500 short
    assert events.take("player", 400) is None  # the refused take cost nothing
    clock.now += 20
    assert events.take("player", 10_000) is None  # more than the burst: the whole bucket


def test_a_refusal_says_when_to_come_back() -> None:
    problem = ProblemRegistry(retry_after_s=2).answer(OverQuota(0.2, "events"), "test")

    assert problem.status == 429
    assert problem.headers["Retry-After"] == "1"
    assert "retry in 1 s" in problem.detail
