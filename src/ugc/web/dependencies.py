"""FastAPI dependencies and answers that every framework route may use."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, TypeVar

import orjson
from fastapi import Depends, Request
from starlette.responses import Response
from starlette.types import Scope

from ugc.auth import Principal, TokenVerifier
from ugc.observability.scope import USER_ID
from ugc.problems import Problem


def json_response(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def identify(scope: Scope, verifier: TokenVerifier, authorization: str | None) -> Principal:
    """The caller, from the Authorization header; remembered for the access log."""
    refuse_token_in_url(scope)
    principal = verifier.principal(authorization)
    scope[USER_ID] = principal.user_id
    return principal


if TYPE_CHECKING:
    from ugc.web.kit import ServiceKit

T = TypeVar("T")


def kit_of(request: Request) -> ServiceKit:
    """The kit of the service that serves the request."""
    kit: ServiceKit = request.app.state.kit
    return kit


def state_of(request: Request, kind: type[T]) -> T:
    """The service's own state, the one object `assemble(state=...)` was given."""
    state = request.app.state.service
    if not isinstance(state, kind):
        raise TypeError(f"this service's state is not a {kind.__name__}")
    return state


async def current_user(request: Request) -> Principal:
    verifier = kit_of(request).verifier
    return identify(request.scope, verifier, request.headers.get("authorization"))


CurrentUser = Annotated[Principal, Depends(current_user)]

_URL_TOKEN = re.compile(rb"(?:^|&)(?:access_token|token|jwt)=", re.IGNORECASE)


def refuse_token_in_url(scope: Scope) -> None:
    """A token in the query string would land in access logs, proxies' and ours."""
    query = scope.get("query_string", b"")
    if query and _URL_TOKEN.search(query):
        raise Problem(
            400,
            "Send the access token in the Authorization header (or, from sendBeacon, in "
            "the body's `access_token`), never in the URL: URLs are written to access logs.",
        )
