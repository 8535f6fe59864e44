"""One error shape for every API: RFC 9457 problem details, and one registry from
exceptions to problems.

Handlers raise `Problem`, or a domain error that a package registered a rule
for (`ProblemRegistry.register`); the FastAPI handlers and the direct endpoints
both answer through `ProblemRegistry.answer`, so the same exception gets the
same answer on every route. Anything unknown is logged and answered with the
one 500 text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, TypeVar

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
UNEXPECTED = "An unexpected error occurred; it is logged."
INVALID_FIELDS = "The request has invalid fields; see `errors`."

E = TypeVar("E", bound=Exception)


class Problem(Exception):
    """An error the client can act on, answered as problem details."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self) -> bytes:
        content: dict[str, Any] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            **self.extra,
        }
        if self.errors is not None:
            content["errors"] = self.errors
        return orjson.dumps(content)

    def to_response(self) -> Response:
        return Response(
            self.body(), status_code=self.status, headers=self.headers, media_type=PROBLEM_JSON
        )


class Unavailable(Exception):
    """Something this service depends on did not answer in time: 503 with
    Retry-After. The message is shown to the client."""


def field_errors(
    errors: Sequence[Mapping[str, Any]], *, skip: int = 0, whole: str = "(body)"
) -> list[dict[str, str]]:
    """Pydantic errors as `{field, reason}`; `skip` drops leading location parts."""
    return [
        {
            "field": ".".join(str(part) for part in error["loc"][skip:]) or whole,
            "reason": str(error["msg"]).removeprefix("Value error, "),
        }
        for error in errors
    ]


def invalid(field: str, reason: str) -> Problem:
    """422 for one field, in the shape validation errors have."""
    return Problem(422, INVALID_FIELDS, errors=[{"field": field, "reason": reason}])


Rule = Callable[[Any], Problem]


class ProblemRegistry:
    """Exceptions -> problems for one service. A rule is found by the exception's
    class or its nearest registered base."""

    def __init__(self, *, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        self._rules: dict[type[Exception], Rule] = {}
        self.register(Problem, lambda problem: problem)
        self.register(Unavailable, lambda exc: self.unavailable(str(exc)))
        self.register(RequestValidationError, _validation_problem)
        self.register(StarletteHTTPException, _http_problem)

    def register(self, kind: type[E], rule: Callable[[E], Problem]) -> None:
        self._rules[kind] = rule

    def unavailable(self, detail: str, **extra: Any) -> Problem:
        return Problem(
            503, detail, headers={"Retry-After": str(self.retry_after_s)}, extra=extra or None
        )

    def problem_for(self, exc: BaseException) -> Problem | None:
        for kind in type(exc).__mro__:
            rule = self._rules.get(kind)
            if rule is not None:
                return rule(exc)
        return None

    def answer(self, exc: BaseException, where: str) -> Problem:
        """The problem for any exception; an unknown one is logged as an error."""
        problem = self.problem_for(exc)
        if problem is None:
            log.error("unhandled error on %s", where, exc_info=exc)
            return Problem(500, UNEXPECTED)
        return problem

    def install(self, app: FastAPI) -> None:
        """Answer the app's errors through this registry."""

        async def handle(request: Request, exc: Exception) -> Response:
            where = f"{request.method} {request.url.path}"
            return self.answer(exc, where).to_response()

        for kind in self._rules:
            app.add_exception_handler(kind, handle)
        # Starlette answers this one last and then re-raises, so the server sees it too.
        app.add_exception_handler(Exception, handle)


def _validation_problem(exc: RequestValidationError) -> Problem:
    return Problem(422, INVALID_FIELDS, errors=field_errors(exc.errors(), skip=1))


def _http_problem(exc: StarletteHTTPException) -> Problem:
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        # The framework's "There was an error parsing the body", said with the cause.
        return Problem(400, f"The request body is not JSON in UTF-8: {exc.__cause__}.")
    return Problem(exc.status_code, str(exc.detail), headers=exc.headers)
