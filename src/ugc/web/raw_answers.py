"""Answers written as raw HTTP/1.1 bytes, for the protocol layer, which answers
before any app exists for the request: a problem (RFC 9457) and a closed
connection."""

from __future__ import annotations

import orjson

from ugc.web.cors import CorsPolicy


def raw_problem(status: int, reason: bytes, detail: str, *, headers: bytes = b"") -> bytes:
    body = orjson.dumps(
        {"type": "about:blank", "title": reason.decode(), "status": status, "detail": detail}
    )
    return b"".join(
        (
            b"HTTP/1.1 %d %b\r\n" % (status, reason),
            b"content-type: application/problem+json\r\n",
            b"content-length: %d\r\n" % len(body),
            headers,
            b"connection: close\r\n\r\n",
            body,
        )
    )


def with_cors(answer: bytes, headers: list[tuple[bytes, bytes]], cors: CorsPolicy | None) -> bytes:
    """The answer with the CORS headers a page on an allowed origin needs to read it."""
    origin = next((value for name, value in headers if name == b"origin"), None)
    if origin is None or cors is None:
        return answer
    extra = b"".join(b"%b: %b\r\n" % pair for pair in cors.answer_headers(origin))
    head, _, rest = answer.partition(b"\r\n")
    return head + b"\r\n" + extra + rest
