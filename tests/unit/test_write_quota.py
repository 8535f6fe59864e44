from __future__ import annotations

import pytest

from ugc.content import limits
from ugc.content.limits import WriteQuota

pytestmark = pytest.mark.unit


def test_a_burst_then_the_refill_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(limits.time, "monotonic", lambda: clock[0])
    quota = WriteQuota(per_minute=60, burst=2)

    assert [quota.take("u"), quota.take("u")] == [None, None]
    assert quota.take("u") == pytest.approx(1.0)
    assert quota.take("other") is None
    clock[0] += 1.0
    assert quota.take("u") is None
    assert quota.take("u") == pytest.approx(1.0)
