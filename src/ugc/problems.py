"""One error shape for every API: RFC 9457 problem details, and the one table
from errors to answers.

Domain code raises the errors of `ugc.errors` (each package its own subclasses);
`STATUS` turns each kind into its status here, and nowhere else. Route code may
raise a `Problem` itself, the framework raises its own validation and HTTP
errors; the FastAPI handlers and the direct endpoints all answer through
`ProblemRegistry.answer`, so the same exception gets the same answer on every
route. Anything unknown is logged and answered with the one 500 text.
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

from ugc.errors import (
    INVALID_FIELDS,
    Conflict,
    Forbidden,
    Invalid,
    Malformed,
    NotFound,
    OverQuota,
    TooLarge,
    TooSlow,
    UgcError,
    Unauthenticated,
    Unavailable,
    Unsupported,
)
from ugc.observability.metrics import ERRORS_ANSWERED

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
UNEXPECTED = "An unexpected error occurred; it is logged."

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


Rule = Callable[[Any], Problem]

# Each kind of domain error and its status; a subclass answers as its nearest kind.
STATUS: dict[type, int] = {
    Malformed: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    TooSlow: 408,
    Conflict: 409,
    TooLarge: 413,
    Unsupported: 415,
    Invalid: 422,
    OverQuota: 429,
    Unavailable: 503,
}


class ProblemRegistry:
    """Exceptions -> problems for one service: the domain kinds of `STATUS`, and the
    framework's own errors. A rule is found by the exception's class or its
    nearest registered base."""

    def __init__(self, *, retry_after_s: int, service: str = "ugc") -> None:
        self.retry_after_s = retry_after_s
        self.service = service
        self._rules: dict[type[Exception], Rule] = {}
        self.register(Problem, lambda problem: problem)
        self.register(UgcError, self.domain_problem)
        self.register(RequestValidationError, _validation_problem)
        self.register(StarletteHTTPException, _http_problem)

    def register(self, kind: type[E], rule: Callable[[E], Problem]) -> None:
        self._rules[kind] = rule

    def domain_problem(self, exc: UgcError) -> Problem:
        """A domain error's answer: the status of its kind, its message as the detail."""
        ERRORS_ANSWERED.labels(self.service, type(exc).__name__).inc()
        status = next((STATUS[k] for k in type(exc).__mro__ if k in STATUS), 500)
        detail = str(exc)
        if isinstance(exc, Unauthenticated):
            challenge = f'Bearer error="invalid_token", error_description="{detail}"'
            return Problem(status, detail, headers={"WWW-Authenticate": challenge})
        if isinstance(exc, Invalid):
            return Problem(status, detail, errors=exc.errors or None)
        if isinstance(exc, OverQuota):
            return Problem(status, detail, headers={"Retry-After": str(exc.retry_after_s)})
        if isinstance(exc, Unavailable):
            return self.unavailable(detail, retry_after_s=exc.retry_after_s)
        if status == 500:
            log.error("%s has no status of its own", type(exc).__name__, exc_info=exc)
            return Problem(500, UNEXPECTED)
        return Problem(status, detail)

    def unavailable(
        self, detail: str, *, retry_after_s: int | None = None, **extra: Any
    ) -> Problem:
        wait = retry_after_s or self.retry_after_s
        return Problem(503, detail, headers={"Retry-After": str(wait)}, extra=extra or None)

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
