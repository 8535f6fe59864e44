"""The HTTP/1.1 protocol every ugc server runs: uvicorn's httptools protocol, with
the guards it lacks.

- The request line and headers together may take `max_header_bytes`; past that
  the request is answered 431 and the connection closed, before the parser ever
  sees the rest (httptools itself has no limit: an 8 MB header was parsed).
- A request must arrive whole, head and body, within `read_timeout_s` of its
  first byte (or of the connection opening), give or take half of it; a slow or
  silent client gets 408 and is disconnected, so slow-loris connections cannot
  pile up.
- Idle keep-alive connections are closed by uvicorn's own timer.
- Past `max_in_flight` requests being worked on in the process, a new one is
  answered 503 with Retry-After right here, before any task is made for it:
  under overload a refusal must cost next to nothing, or refusing thousands a
  second starves the requests in flight; and the connection is closed, so that
  clients that do not wait reconnect first. Health and metrics are never shed.

A response's status line and headers go out with its first body bytes, in one
write (`ugc.web.writes.OneWrite`).

A refused connection is closed as nginx's lingering close does: the answer is
sent and the sending side shut, then what the client still sends is read and
dropped for a moment, so that its unread bytes do not reset the connection
before it has read the answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ugc.observability.metrics import HTTP_SHED
from ugc.observability.scope import WHOLE_RESPONSE
from ugc.web.cors import CorsPolicy
from ugc.web.writes import OneWrite, flushed_before

_HEAD_END = b"\r\n\r\n"
LINGER_S = 2.0
NEVER_SHED = frozenset({b"/healthz", b"/readyz", b"/metrics"})


def _answer(status: int, reason: bytes, detail: str, *, headers: bytes = b"") -> bytes:
    body = orjson.dumps(
        {"type": "about:blank", "title": reason.decode(), "status": status, "detail": detail}
    )
    return b"".join(
        (
            b"HTTP/1.1 %d %b\r\n" % (status, reason),
            b"content-type: application/problem+json\r\n",
            b"content-length: %d\r\n" % len(body),
            headers,
            b"connection: close\r\n\r\n",
            body,
        )
    )


class GuardedHttpProtocol(HttpToolsProtocol):
    """Set `max_header_bytes` and `read_timeout_s` on the class (`guarded(...)`).

    The hot path pays a counter and a clock read per request: each connection has
    one timer, ticking every half timeout, that looks at when the request being
    read began, instead of a timer armed and cancelled for every request.
    """

    max_header_bytes = 16 * 1024
    read_timeout_s = 10.0
    max_in_flight = 512
    busy = b""  # the 503, made once by `guarded`
    cors: CorsPolicy | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shedding = False
        self._in_head = True
        self._head_seen = 0
        self._tail = b""
        self._reading_since: float | None = None
        self._ticker: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._reading_since = self.loop.time()  # a connection that says nothing is cut too
        self._ticker = self.loop.call_later(self.read_timeout_s / 2, self._tick)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # answered already: read and dropped until the linger ends
        if self._in_head:
            if self._reading_since is None:
                self._reading_since = self.loop.time()  # the next request on this connection
            self._head_seen += len(data)
            if self._head_seen > self.max_header_bytes and not self._head_ends_in_time(data):
                self._refuse(
                    _answer(431, b"Request Header Fields Too Large",
                            f"The request line and headers are over {self.max_header_bytes} "
                            "bytes; send fewer or shorter headers."),
                )  # fmt: skip
                return
            self._tail = data[-3:]
        super().data_received(data)

    def _head_ends_in_time(self, data: bytes) -> bool:
        """Whether the head ends within the limit in this chunk (it may hold a body too)."""
        window = self._tail + data
        allowed = self.max_header_bytes - (self._head_seen - len(window))
        return window.find(_HEAD_END, 0, max(allowed, 0)) != -1

    def on_headers_complete(self) -> None:
        self._in_head = False
        if len(self.tasks) >= self.max_in_flight and self._may_shed():
            self._shedding = True
            HTTP_SHED.inc()
            # Closing makes a client that ignores Retry-After reconnect before it
            # asks again: 1,000 such clients against 32 in flight gave the accepted
            # requests p99 222 ms on kept connections, 26 ms this way.
            self._refuse(self.busy_for(self.headers))
            return
        previous = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle is not previous:  # not an upgrade
            held = OneWrite(self.transport, cycle)
            cycle.transport = held  # type: ignore[assignment]
            cycle.on_response = flushed_before(held, cycle.on_response)
            cycle.scope[WHOLE_RESPONSE] = held  # type: ignore[literal-required]

    def _may_shed(self) -> bool:
        """Not health or metrics, and no earlier answer pending on this connection
        (answers go out in the order of the requests)."""
        previous = self.cycle
        if previous is not None and not previous.response_complete:
            return False
        return self.url.split(b"?", 1)[0] not in NEVER_SHED

    def busy_for(self, headers: list[tuple[bytes, bytes]]) -> bytes:
        """The 503, with the CORS headers a page on an allowed origin needs to read it."""
        origin = next((value for name, value in headers if name == b"origin"), None)
        if origin is None or self.cors is None:
            return self.busy
        extra = b"".join(b"%b: %b\r\n" % pair for pair in self.cors.answer_headers(origin))
        head, _, rest = self.busy.partition(b"\r\n")
        return head + b"\r\n" + extra + rest

    def on_body(self, body: bytes) -> None:
        if not self._shedding:
            super().on_body(body)

    def on_message_complete(self) -> None:
        # What comes next on this connection is the head of another request.
        self._in_head, self._head_seen, self._tail = True, 0, b""
        self._reading_since = None
        if self._shedding:
            return  # answered and closing
        super().on_message_complete()

    def _tick(self) -> None:
        self._ticker = None
        if self.transport.is_closing():
            return
        since = self._reading_since
        if since is not None and self.loop.time() - since >= self.read_timeout_s:
            if self.cycle is not None and self.cycle.response_started:
                self.transport.close()
                return
            self._refuse(
                _answer(408, b"Request Timeout",
                        f"The request did not arrive whole within {self.read_timeout_s:g} s."),
            )  # fmt: skip
            return
        self._ticker = self.loop.call_later(self.read_timeout_s / 2, self._tick)

    def _refuse(self, answer: bytes) -> None:
        self._refused = True
        if self.cycle is not None:
            self.cycle.keep_alive = False
        self.transport.write(answer)
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_S, self.transport.close)
        else:
            self.transport.close()


def guarded(
    *,
    max_header_bytes: int,
    read_timeout_s: float,
    max_in_flight: int,
    retry_after_s: int,
    cors: CorsPolicy | None,
) -> type[GuardedHttpProtocol]:
    """The protocol class with these limits, for uvicorn's `http=`."""
    busy = _answer(
        503,
        b"Service Unavailable",
        "This server is at capacity; retry after the time in Retry-After.",
        headers=b"retry-after: %d\r\n" % retry_after_s,
    )
    return type(
        "GuardedHttpProtocol",
        (GuardedHttpProtocol,),
        {
            "max_header_bytes": max_header_bytes,
            "read_timeout_s": read_timeout_s,
            "max_in_flight": max_in_flight,
            "busy": busy,
            "cors": cors,
        },
    )
