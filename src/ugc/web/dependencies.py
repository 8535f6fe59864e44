"""FastAPI dependencies and answers that every framework route may use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, TypeVar
from urllib.parse import unquote_plus

import orjson
from fastapi import Depends, Request
from starlette.responses import Response
from starlette.types import Scope

from ugc.auth import Principal, TokenVerifier
from ugc.errors import Malformed
from ugc.observability.scope import USER_ID


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


def two_credentials() -> Malformed:
    """Two Authorization headers: which one counts would depend on the route (and
    on each proxy on the way), so neither does."""
    return Malformed("Send one Authorization header; this request has several.")


def authorization_of(scope: Scope) -> str | None:
    found = [value for name, value in scope["headers"] if name == b"authorization"]
    if len(found) > 1:
        raise two_credentials()
    return found[0].decode("latin-1") if found else None


async def current_user(request: Request) -> Principal:
    verifier = kit_of(request).verifier
    return identify(request.scope, verifier, authorization_of(request.scope))


CurrentUser = Annotated[Principal, Depends(current_user)]

_TOKEN_NAMES = frozenset({"access_token", "token", "jwt"})


def refuse_token_in_url(scope: Scope) -> None:
    """A token in the query string would land in access logs, proxies' and ours.
    Names are read as a server reads them, percent-decoded (`%61ccess_token`)."""
    query = scope.get("query_string", b"")
    if not query or b"=" not in query:
        return
    names = {
        unquote_plus(part.partition("=")[0]).strip().lower()
        for part in query.decode("latin-1").split("&")
    }
    if names & _TOKEN_NAMES:
        raise Malformed(
            "Send the access token in the Authorization header (or, from sendBeacon, in "
            "the body's `access_token`), never in the URL: URLs are written to access logs."
        )
