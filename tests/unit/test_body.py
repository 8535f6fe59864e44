from __future__ import annotations

import gzip

import pytest

from ugc.errors import UgcError
from ugc.events.body import (
    BEACON_MAX_BYTES,
    EventBodyLimits,
    anonymous_limits,
    check_content_type,
    check_declared_length,
    decode_content,
    parse_json,
)
from ugc.problems import ProblemRegistry

pytestmark = pytest.mark.unit


def status_of(error: UgcError) -> int:
    """The status every API answers this error with."""
    return ProblemRegistry(retry_after_s=1).answer(error, "test").status


LIMITS = EventBodyLimits(
    max_body_bytes=1024, max_decompressed_bytes=10_000, max_decompression_ratio=50
)


@pytest.mark.parametrize(
    ("content_type", "beacon"),
    [
        ("application/json", False),
        ("application/json; charset=utf-8", False),
        ("text/plain;charset=UTF-8", True),
    ],
)
def test_json_and_beacon_bodies_are_read(content_type: str, beacon: bool) -> None:
    assert check_content_type(content_type) is beacon


@pytest.mark.parametrize("content_type", [None, "", "application/xml", "multipart/form-data"])
def test_other_content_types_are_415(content_type: str | None) -> None:
    with pytest.raises(UgcError) as caught:
        check_content_type(content_type)
    assert status_of(caught.value) == 415


def test_gzip_is_undone() -> None:
    assert decode_content(gzip.compress(b'{"a": 1}'), "gzip", LIMITS) == b'{"a": 1}'


def test_a_gzip_bomb_is_400_before_it_is_inflated() -> None:
    bomb = gzip.compress(b"0" * 9_000)  # ratio far above 50, size under the cap
    with pytest.raises(UgcError) as caught:
        decode_content(bomb, "gzip", LIMITS)
    assert status_of(caught.value) == 400
    assert "bomb" in str(caught.value)


def test_over_the_decompressed_size_is_413() -> None:
    limits = EventBodyLimits(1024 * 1024, 1_000, 10_000)
    with pytest.raises(UgcError) as caught:
        decode_content(gzip.compress(b"x" * 5_000), "gzip", limits)
    assert status_of(caught.value) == 413


@pytest.mark.parametrize("raw", [b"not gzip at all", gzip.compress(b'{"a": 1}')[:-6]])
def test_broken_gzip_is_400(raw: bytes) -> None:
    with pytest.raises(UgcError) as caught:
        decode_content(raw, "gzip", LIMITS)
    assert status_of(caught.value) == 400


def test_declared_length_over_the_limit_is_413_and_garbage_is_400() -> None:
    check_declared_length("1024", LIMITS)
    with pytest.raises(UgcError) as too_big:
        check_declared_length("1025", LIMITS)
    with pytest.raises(UgcError) as garbage:
        check_declared_length("12abc", LIMITS)
    assert (status_of(too_big.value), status_of(garbage.value)) == (413, 400)


@pytest.mark.parametrize("raw", [b"", b"   ", b"{", b"{'a': 1}"])
def test_bad_json_is_400(raw: bytes) -> None:
    with pytest.raises(UgcError) as caught:
        parse_json(raw)
    assert status_of(caught.value) == 400


def test_a_body_read_before_anyone_is_known_is_a_beacons_at_most() -> None:
    limits = EventBodyLimits(1024 * 1024, 10_000_000, 200)

    bounded = anonymous_limits(None, limits)
    assert bounded.max_body_bytes == BEACON_MAX_BYTES == 64 * 1024
    assert anonymous_limits("identity", limits) == bounded
    with pytest.raises(UgcError) as caught:
        anonymous_limits("gzip", limits)  # refused before a byte is inflated
    assert status_of(caught.value) == 415
