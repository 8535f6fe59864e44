"""Content errors as problem details, registered once for every content route."""

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
from ugc.problems import Problem, ProblemRegistry

_STATUS: dict[type[ContentError], int] = {
    NotFound: 404,
    AlreadyExists: 409,
    NotYours: 403,
    InvalidCursor: 422,
}


def register_problems(problems: ProblemRegistry) -> None:
    def content_problem(exc: ContentError) -> Problem:
        CONTENT_ERRORS.labels(type(exc).__name__).inc()
        if isinstance(exc, StoreUnavailable):
            return problems.unavailable(str(exc))
        if isinstance(exc, InvalidCursor):
            return Problem(422, str(exc), errors=[{"field": "cursor", "reason": str(exc)}])
        return Problem(_STATUS.get(type(exc), 500), str(exc))

    problems.register(ContentError, content_problem)
