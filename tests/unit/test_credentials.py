"""Where a credential may come from, read one way on every route."""

from __future__ import annotations

from typing import Any

import pytest

from ugc.errors import Malformed
from ugc.web.dependencies import authorization_of, refuse_token_in_url
from ugc.web.direct import request_headers

pytestmark = pytest.mark.unit


def scope(query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {"type": "http", "query_string": query, "headers": headers or []}


@pytest.mark.parametrize(
    "query",
    [
        b"access_token=x",
        b"%61ccess_token=x",
        b"access%5Ftoken=x",
        b"a=1&Token=x",
        b"jwt=",
        b"+jwt+=x",
    ],
)
def test_a_token_in_the_url_is_refused_however_it_is_spelled(query: bytes) -> None:
    with pytest.raises(Malformed, match="never in the URL"):
        refuse_token_in_url(scope(query))


@pytest.mark.parametrize("query", [b"", b"tokens=1", b"q=access_token", b"limit=20&cursor=abc"])
def test_other_queries_pass(query: bytes) -> None:
    refuse_token_in_url(scope(query))


def test_two_authorization_headers_are_refused_by_routed_and_direct_endpoints() -> None:
    two = scope(headers=[(b"authorization", b"Bearer a"), (b"authorization", b"Bearer b")])
    wanted = frozenset({b"authorization", b"content-type"})

    with pytest.raises(Malformed, match="one Authorization header"):
        authorization_of(two)
    with pytest.raises(Malformed, match="one Authorization header"):
        request_headers(two, wanted)


def test_one_authorization_header_is_read() -> None:
    one = scope(headers=[(b"authorization", b"Bearer a"), (b"accept", b"*/*")])

    assert authorization_of(one) == "Bearer a"
    assert request_headers(one, frozenset({b"authorization"})) == {b"authorization": "Bearer a"}
    assert authorization_of(scope()) is None
