"""One error shape for every API: RFC 9457 problem details.

Handlers raise `Problem`; `install_problem_handlers` turns it, FastAPI's
validation errors and any unexpected exception into `application/problem+json`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


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

    def to_response(self) -> Response:
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            **self.extra,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        return Response(
            orjson.dumps(body),
            status_code=self.status,
            headers=self.headers,
            media_type=PROBLEM_JSON,
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


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return exc.to_response()

    async def on_validation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = field_errors(exc.errors(), skip=1)
        return Problem(
            422, "The request has invalid fields; see `errors`.", errors=errors
        ).to_response()

    async def on_http(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return Problem(exc.status_code, str(exc.detail), headers=exc.headers).to_response()

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return Problem(500, "An unexpected error occurred; it has been logged.").to_response()

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
