"""FastAPI dependencies and answers that every framework route may use."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import Depends, Request
from starlette.responses import Response
from starlette.types import Scope

from ugc.auth import Principal, TokenVerifier


def json_response(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def identify(scope: Scope, verifier: TokenVerifier, authorization: str | None) -> Principal:
    """The caller, from the Authorization header; remembered for the access log."""
    principal = verifier.principal(authorization)
    scope["ugc.user_id"] = principal.user_id
    return principal


async def current_user(request: Request) -> Principal:
    verifier: TokenVerifier = request.app.state.verifier
    return identify(request.scope, verifier, request.headers.get("authorization"))


CurrentUser = Annotated[Principal, Depends(current_user)]
