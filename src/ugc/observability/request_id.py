"""`X-Request-Id`: taken from the caller (nginx sets it) or made here, returned on
every response and kept in a context variable for logs and Kafka headers."""

from __future__ import annotations

import itertools
import os
import re
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
_HEADER_BYTES = HEADER.encode()
_SAFE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()


# New ids: a random prefix per process and a counter; unique without a syscall
# per request.
_PREFIX = os.urandom(8).hex()
_counter = itertools.count(1)


def accept_or_make(incoming: str | None) -> str:
    """The caller's id when it is a sane token, otherwise a new one."""
    if incoming and _SAFE.match(incoming):
        return incoming
    return f"{_PREFIX}{next(_counter):016x}"


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next(
            (value.decode("latin-1") for name, value in scope["headers"] if name == _HEADER_BYTES),
            None,
        )
        request_id = accept_or_make(incoming)
        token = request_id_var.set(request_id)
        encoded = request_id.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (_HEADER_BYTES, encoded)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
