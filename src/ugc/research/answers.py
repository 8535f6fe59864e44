"""Answers in a form every store can agree on, and whether they did."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any


def plain(value: Any) -> Any:  # noqa: PLR0911 - one return per kind of value
    """A comparable, JSON-ready form: floats to 6 places, ids and times as text."""
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(v) for v in value]
    if value is not None and not isinstance(value, bool | int | str):
        return plain(float(value))  # Decimal and the like
    return value


def agreement(answers: Mapping[str, Mapping[str, Any]], queries: Iterable[str]) -> dict[str, bool]:
    """Per query: whether every store gave the same answer."""
    return {
        query: len({repr(by_store[query]) for by_store in answers.values()}) == 1
        for query in queries
    }
