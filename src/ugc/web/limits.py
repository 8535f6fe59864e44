"""The cap on request bodies of the framework routes (the content and analytics
APIs, `UGC_MAX_REQUEST_BODY_BYTES`): 413 before a byte is parsed when the declared
length is over it, and as soon as a streamed body passes it. The events intake
bounds its own bodies (`events.body.EventBodyLimits`); both read Content-Length
with `declared_length`, so a bad one is the same 400 everywhere."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ugc.errors import Malformed, TooLarge
from ugc.problems import ProblemRegistry


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
