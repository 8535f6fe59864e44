"""Turning an HTTP request body into JSON within the intake limits.

Pure logic over bytes and header values, so every rule is unit-tested without a
server: the content type, the size on the wire and after decompression, gzip
that does not decode or expands suspiciously, JSON that does not parse; each
refusal an error of `events.errors`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from typing import Any

import orjson

from ugc.events.errors import BodyMalformed, BodyNotSupported, BodyTooLarge
from ugc.web.limits import declared_length

JSON_TYPES = frozenset({"application/json"})
# navigator.sendBeacon with a string body sends text/plain.
BEACON_TYPES = frozenset({"text/plain"})
_CHUNK = 64 * 1024
# A body that carries its own token (a sendBeacon's) is read before anyone is
# authenticated, so it gets no more than a browser's beacon can hold (64 KiB in
# all of them), uncompressed (a beacon cannot say Content-Encoding), and no
# longer than a body that small needs on any link.
BEACON_MAX_BYTES = 64 * 1024
BEACON_READ_S = 2.0


@dataclass(frozen=True, slots=True)
class EventBodyLimits:
    """What bounds a body of events: on the wire, decompressed, and the ratio."""

    max_body_bytes: int
    max_decompressed_bytes: int
    max_decompression_ratio: int


def media_type(content_type: str | None) -> str:
    """The bare media type: `application/json; charset=utf-8` -> `application/json`."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def check_content_type(content_type: str | None) -> bool:
    """Whether the body came from sendBeacon; refused for types we do not read."""
    if content_type == "application/json":  # the usual header, as is
        return False
    kind = media_type(content_type)
    if kind in JSON_TYPES:
        return False
    if kind in BEACON_TYPES:
        return True
    shown = kind or "no Content-Type"
    raise BodyNotSupported(
        f"Send events as application/json (or text/plain from sendBeacon), not {shown}.",
    )


def too_large(limit: int, what: str) -> BodyTooLarge:
    return BodyTooLarge(f"The {what} is over the limit of {limit} bytes; send smaller batches.")


def check_declared_length(content_length: str | None, limits: EventBodyLimits) -> None:
    declared = declared_length(content_length)
    if declared is not None and declared > limits.max_body_bytes:
        raise too_large(limits.max_body_bytes, "request body")


def anonymous_limits(content_encoding: str | None, limits: EventBodyLimits) -> EventBodyLimits:
    """The limits of a body read before its sender is known: a beacon's."""
    if _coding(content_encoding) != "identity":
        raise BodyNotSupported(
            "A body that carries its access token is read uncompressed, as browsers send "
            "beacons; to send gzip, put the token in the Authorization header."
        )
    return replace(limits, max_body_bytes=min(limits.max_body_bytes, BEACON_MAX_BYTES))


def decode_content(raw: bytes, encoding: str | None, limits: EventBodyLimits) -> bytes:
    """Undo `Content-Encoding` (identity or gzip) within the size and ratio caps."""
    kind = _coding(encoding)
    if kind == "identity":
        return raw
    if kind not in {"gzip", "x-gzip"}:
        raise BodyNotSupported(f"Content-Encoding {kind!r} is not supported; use gzip or none.")
    return _gunzip(raw, limits)


def _coding(content_encoding: str | None) -> str:
    return (content_encoding or "identity").strip().lower()


def _gunzip(raw: bytes, limits: EventBodyLimits) -> bytes:
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
                raise BodyMalformed(
                    f"The gzip body expands more than {limits.max_decompression_ratio} times; "
                    "it is refused as a decompression bomb.",
                )
            if produced > limits.max_decompressed_bytes:
                raise too_large(limits.max_decompressed_bytes, "decompressed body")
            pending = inflater.unconsumed_tail
            if inflater.eof or (not pending and not chunk):
                break
    except zlib.error as exc:
        raise BodyMalformed(f"The body is not valid gzip: {exc}.") from None
    if not inflater.eof:
        raise BodyMalformed("The gzip body is truncated.")
    return b"".join(parts)


def parse_json(data: bytes) -> Any:
    if not data.strip():
        raise BodyMalformed('The request body is empty; send an event or {"events": [...]}.')
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BodyMalformed(f"The body is not valid JSON: {exc}.") from None
