"""How a response reaches the socket: whole, in one write.

uvicorn writes a response's status line and headers apart from its body: two
send() calls and often two packets for every small answer, and the sends were a
fifth of the events API's time under load. `OneWrite` joins them. A handler that
has its whole answer at once (the direct endpoints) gives it to
`OneWrite.respond`, found in the scope under `WHOLE_RESPONSE`, instead of the
two ASGI messages: one call and one write, each header looked at once.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, RequestResponseCycle

# What uvicorn refuses in a header value. Names are the code's own constants;
# the same test keeps control characters out of them too.
_UNSAFE_HEADER = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_NO_BODY = frozenset({204, 304})


class OneWrite:
    """The transport as one response's cycle sees it: the first write after the
    response started (the head) is held, and goes out joined to the next (the
    body), or alone when the response completes without one (HEAD, 304) or the
    connection is closed. Everything else passes straight through.

    The cycle holds this as its transport, so this lets go of the cycle as soon
    as the head is seen: a reference back would make every request's cycle,
    scope and messages garbage only the cyclic collector can free (measured: a
    tenth of the events API's CPU in collections).
    """

    __slots__ = ("_cycle", "_head", "_transport")

    def __init__(self, transport: asyncio.Transport, cycle: RequestResponseCycle) -> None:
        self._transport = transport
        self._cycle: RequestResponseCycle | None = cycle  # until the head is seen
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head + data)
        elif self._cycle is not None and self._cycle.response_started:
            self._cycle = None
            self._head = bytes(data)
        else:
            self._transport.write(data)  # a 100 Continue, or the rest of a body

    def respond(self, status: int, headers: Sequence[tuple[bytes, bytes]], body: bytes) -> bool:
        """The whole response in one write, as uvicorn's cycle would send it as two
        messages; False (nothing done) where that is not the simple case: the
        response already started, writes paused or the client gone, an access log
        to write, or a header uvicorn would refuse. `headers` must hold the
        content-length of `body`.
        """
        cycle = self._cycle
        if (
            cycle is None
            or cycle.response_started
            or cycle.disconnected
            or cycle.flow.write_paused
            or cycle.access_log
        ):
            return False
        content = [STATUS_LINE[status]]
        for name, value in (*cycle.default_headers, *headers):
            content += (name, b": ", value, b"\r\n")
        if _UNSAFE_HEADER.search(b" ".join(content[1::2])):  # every name and value
            return False
        self._cycle = None
        cycle.response_started = True
        cycle.waiting_for_100_continue = False
        cycle.chunked_encoding = False
        cycle.expected_content_length = 0
        if not cycle.keep_alive:
            content.append(b"connection: close\r\n")
        content.append(b"\r\n")
        if cycle.scope["method"] != "HEAD" and status not in _NO_BODY:
            content.append(body)
        self._transport.write(b"".join(content))
        cycle.response_complete = True
        cycle.message_event.set()
        if not cycle.keep_alive:
            self._transport.close()
        cycle.on_response()
        return True

    def flush(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)

    def close(self) -> None:
        self._cycle = None
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def flushed_before(held: OneWrite, then: Callable[[], None]) -> Callable[[], None]:
    def on_response() -> None:
        held.flush()
        then()

    return on_response
