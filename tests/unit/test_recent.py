from __future__ import annotations

import time

import pytest

from ugc.content.store.recent import Recent

pytestmark = pytest.mark.unit


def test_entries_expire_are_forgotten_and_bounded() -> None:
    recent: Recent[str, int] = Recent(ttl_s=0.05, size=2)
    recent.put("a", 1)
    recent.put("b", 2)
    recent.put("c", 3)  # pushes out the oldest

    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (None, 2, 3)
    recent.forget("b")
    assert recent.get("b") is None
    time.sleep(0.06)
    assert recent.get("c") is None
