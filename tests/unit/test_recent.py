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


def test_a_read_that_a_write_overtook_is_not_kept() -> None:
    recent: Recent[str, int] = Recent(ttl_s=60, size=10)
    since = recent.stamp()  # a read begins (the summary as it was: 1)
    recent.forget("film")  # a write of this process commits meanwhile
    recent.put("film", 1, read_since=since)  # the read ends with the old value

    assert recent.get("film") is None  # not served for the next minute
    since = recent.stamp()
    recent.put("film", 2, read_since=since)
    assert recent.get("film") == 2
