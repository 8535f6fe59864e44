"""Which origins a CORS policy allows, and the headers it answers with."""

from __future__ import annotations

import pytest

from ugc.settings import Settings
from ugc.web.cors import CorsPolicy, origin_pattern

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("pattern", "origin", "allowed"),
    [
        ("https://cinema.example", "https://cinema.example", True),
        ("https://cinema.example", "https://CINEMA.example", True),
        ("https://cinema.example", "https://cinema.example:443", False),
        ("https://cinema.example", "http://cinema.example", False),
        ("https://*.cinema.example", "https://a.cinema.example", True),
        ("https://*.cinema.example", "https://a.b.cinema.example", True),
        ("https://*.cinema.example", "https://cinema.example", False),
        ("https://*.cinema.example", "https://acinema.example", False),
        ("https://*.cinema.example", "https://a.cinema.example.evil", False),
        ("http://localhost:*", "http://localhost:5173", True),
        ("http://localhost:*", "http://localhost", False),
        ("http://localhost:*", "http://localhost.evil:80", False),
    ],
)
def test_origin_patterns(pattern: str, origin: str, allowed: bool) -> None:
    assert bool(origin_pattern(pattern).fullmatch(origin)) is allowed


@pytest.mark.parametrize("bad", ["cinema.example", "https://", "https://*", "ftp://x.example"])
def test_what_is_not_an_origin_is_refused_with_the_form_expected(bad: str) -> None:
    with pytest.raises(ValueError, match="scheme://host"):
        origin_pattern(bad)


def test_unset_origins_are_local_pages_outside_production_and_none_in_it(
    base_settings: Settings,
) -> None:
    test = CorsPolicy.for_settings(base_settings)
    production = CorsPolicy.for_settings(
        base_settings.model_copy(update={"environment": "production"})
    )

    assert test.allows(b"http://127.0.0.1:8080")
    assert not test.allows(b"https://cinema.example")
    assert not production.allows(b"http://127.0.0.1:8080")


def test_answers_carry_allow_expose_and_vary_and_refusals_only_vary() -> None:
    policy = CorsPolicy(["https://cinema.example"], max_age_s=600)

    allowed = dict(policy.answer_headers(b"https://cinema.example"))
    refused = dict(policy.answer_headers(b"https://other.example"))
    preflight = dict(policy.preflight_headers(b"https://cinema.example"))

    assert allowed[b"access-control-allow-origin"] == b"https://cinema.example"
    assert b"X-Request-Id" in allowed[b"access-control-expose-headers"]
    assert allowed[b"vary"] == refused[b"vary"] == b"Origin"
    assert set(refused) == {b"vary"}
    assert preflight[b"access-control-max-age"] == b"600"
    assert b"content-encoding" in preflight[b"access-control-allow-headers"]
