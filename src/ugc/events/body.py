"""Turning an HTTP request body into JSON within the intake limits.

Pure logic over bytes and header values, so every rule is unit-tested without a
server: content type (415), size on the wire and after decompression (413),
gzip that does not decode or expands suspiciously (400), JSON that does not
parse (400).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from ugc.problems import Problem

JSON_TYPES = frozenset({"application/json"})
# navigator.sendBeacon with a string body sends text/plain.
BEACON_TYPES = frozenset({"text/plain"})
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class BodyLimits:
    max_body_bytes: int
    max_decompressed_bytes: int
    max_decompression_ratio: int


def media_type(content_type: str | None) -> str:
    """The bare media type: `application/json; charset=utf-8` -> `application/json`."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def check_content_type(content_type: str | None) -> bool:
    """Whether the body came from sendBeacon; 415 for types we do not read."""
    if content_type == "application/json":  # the usual header, as is
        return False
    kind = media_type(content_type)
    if kind in JSON_TYPES:
        return False
    if kind in BEACON_TYPES:
        return True
    shown = kind or "no Content-Type"
    raise Problem(
        415,
        f"Send events as application/json (or text/plain from sendBeacon), not {shown}.",
    )


def too_large(limit: int, what: str) -> Problem:
    return Problem(413, f"The {what} is over the limit of {limit} bytes; send smaller batches.")


def check_declared_length(content_length: str | None, limits: BodyLimits) -> None:
    if content_length is None:
        return
    try:
        declared = int(content_length)
    except ValueError:
        raise Problem(400, "Content-Length is not a number.") from None
    if declared > limits.max_body_bytes:
        raise too_large(limits.max_body_bytes, "request body")


def decode_content(raw: bytes, encoding: str | None, limits: BodyLimits) -> bytes:
    """Undo `Content-Encoding` (identity or gzip) within the size and ratio caps."""
    kind = (encoding or "identity").strip().lower()
    if kind == "identity":
        return raw
    if kind not in {"gzip", "x-gzip"}:
        raise Problem(415, f"Content-Encoding {kind!r} is not supported; use gzip or none.")
    return _gunzip(raw, limits)


def _gunzip(raw: bytes, limits: BodyLimits) -> bytes:
    ratio_cap = max(len(raw), 1) * limits.max_decompression_ratio
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    parts: list[bytes] = []
    produced = 0
    pending = raw
    try:
        while True:
            chunk = inflater.decompress(pending, _CHUNK)
            produced += len(chunk)
            parts.append(chunk)
            if produced > ratio_cap:
                raise Problem(
                    400,
                    f"The gzip body expands more than {limits.max_decompression_ratio} times; "
                    "it is refused as a decompression bomb.",
                )
            if produced > limits.max_decompressed_bytes:
                raise too_large(limits.max_decompressed_bytes, "decompressed body")
            pending = inflater.unconsumed_tail
            if inflater.eof or (not pending and not chunk):
                break
    except zlib.error as exc:
        raise Problem(400, f"The body is not valid gzip: {exc}.") from None
    if not inflater.eof:
        raise Problem(400, "The gzip body is truncated.")
    return b"".join(parts)


def parse_json(data: bytes) -> Any:
    if not data.strip():
        raise Problem(400, 'The request body is empty; send an event or {"events": [...]}.')
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise Problem(400, f"The body is not valid JSON: {exc}.") from None
