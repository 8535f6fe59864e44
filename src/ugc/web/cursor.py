"""Paged listings: the page, its cursor parameter, and opaque cursors (base64url of
a small JSON list, checked on the way back in)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from ugc.errors import InvalidCursor

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    model_config = ConfigDict(extra="forbid", frozen=True)

    items: list[T]
    total: int = Field(description="all items of this listing")
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null at the end"
    )


# The query parameter of a paged listing.
Cursor = Annotated[
    str | None, Query(max_length=256, description="`next_cursor` of the previous page")
]


def encode(position: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


# What a stored integer can be: MongoDB's are 64-bit.
_INT64 = range(-(2**63), 2**63)


def _fits(value: object, kind: type) -> bool:
    if isinstance(value, bool) or not isinstance(value, kind):
        return False
    return value in _INT64 if isinstance(value, int) else True


def decode(cursor: str, *, kinds: tuple[type, ...]) -> list[Any]:
    """The position in the cursor, whose items must be of `kinds`, in order, and
    within what the store holds (integers of 64 bits)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise InvalidCursor(
            "The cursor is not one this API made; start from the first page."
        ) from None
    if (
        not isinstance(position, list)
        or len(position) != len(kinds)
        or not all(_fits(v, k) for v, k in zip(position, kinds, strict=True))
    ):
        raise InvalidCursor("The cursor is not one this API made; start from the first page.")
    return position


def decode_tagged(cursor: str, variants: dict[str, tuple[type, ...]]) -> tuple[str, list[Any]]:
    """A cursor whose first item names its kind: `[tag, *position]`."""
    for tag, kinds in variants.items():
        try:
            found = decode(cursor, kinds=(str, *kinds))
        except InvalidCursor:
            continue
        if found[0] == tag:
            return tag, found[1:]
    raise InvalidCursor("The cursor is not one this API made; start from the first page.")
