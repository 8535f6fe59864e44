"""The cap on request bodies of the framework routes (the content and analytics
APIs, `UGC_MAX_REQUEST_BODY_BYTES`): 413 before a byte is parsed when the declared
length is over it, and as soon as a streamed body passes it. The events intake
bounds its own bodies (`events.body.EventBodyLimits`); both read Content-Length
with `declared_length`, so a bad one is the same 400 everywhere."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ugc.auth import TokenVerifier
from ugc.errors import Malformed, TooLarge, UgcError
from ugc.problems import ProblemRegistry
from ugc.web.anonymous import BODY_METHODS
from ugc.web.dependencies import authorization_of, identify


def declared_length(value: str | bytes | None) -> int | None:
    """The Content-Length header's number; None when there is none."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    if not text.isdigit() or not text.isascii():
        raise Malformed("Content-Length is not a number.")
    return int(text)


class RouteBodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, problems: ProblemRegistry) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.problems = problems
        self.detail = f"The request body is over the limit of {max_bytes} bytes."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused: Malformed | TooLarge | None = None
        try:
            declared = declared_length(_content_length(scope))
        except Malformed as bad:
            refused = bad
        else:
            if declared is not None and declared > self.max_bytes:
                refused = TooLarge(self.detail)
        if refused is not None:
            problem = self.problems.answer(refused, scope["path"])
            await problem.to_response()(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                # The framework re-raises HTTPException from a body read as it is;
                # the service's problem registry answers it.
                raise HTTPException(413, self.detail)
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return bytes(value)
    return None


class CredentialsBeforeBody:
    """A framework route reads its body before its dependencies check the token, so
    a stranger could make it read (and hold a slot for) a slow body: here a request
    that may carry one shows a valid token first, or is answered 401 unread. Every
    route with a body needs a user; the routes' own check then finds it verified."""

    def __init__(self, api: FastAPI, verifier: TokenVerifier, problems: ProblemRegistry) -> None:
        self.app = api
        self.routes = api.router.routes
        self.verifier = verifier
        self.problems = problems

    def _routed(self, scope: Scope) -> bool:
        """Whether a route takes this request (path and method): others get their
        404 or 405 as before."""
        return any(route.matches(scope)[0] is Match.FULL for route in self.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in BODY_METHODS and self._routed(scope):
            try:
                identify(scope, self.verifier, authorization_of(scope))
            except UgcError as refused:
                problem = self.problems.answer(refused, scope["path"])
                await problem.to_response()(scope, receive, send)
                return
        await self.app(scope, receive, send)
