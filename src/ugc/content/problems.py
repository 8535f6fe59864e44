"""Content errors as problem details: the one mapping both kinds of route use."""

from __future__ import annotations

from ugc.content.errors import (
    AlreadyExists,
    ContentError,
    InvalidCursor,
    NotFound,
    NotYours,
    StoreUnavailable,
)
from ugc.observability.metrics import CONTENT_ERRORS
from ugc.problems import Problem

_STATUS: dict[type[ContentError], int] = {
    NotFound: 404,
    AlreadyExists: 409,
    NotYours: 403,
    InvalidCursor: 422,
    StoreUnavailable: 503,
}


def content_problem(exc: ContentError) -> Problem:
    status = _STATUS.get(type(exc), 500)
    CONTENT_ERRORS.labels(type(exc).__name__).inc()
    headers = {"Retry-After": "2"} if status == 503 else None
    errors = [{"field": "cursor", "reason": str(exc)}] if isinstance(exc, InvalidCursor) else None
    return Problem(status, str(exc), headers=headers, errors=errors)
