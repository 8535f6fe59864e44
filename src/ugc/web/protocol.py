"""The HTTP/1.1 protocol every ugc server runs: uvicorn's httptools protocol, with
the guards it lacks.

- The request line and headers together may take `max_header_bytes`; past that
  the request is answered 431 and the connection closed, before the parser ever
  sees the rest (httptools itself has no limit: an 8 MB header was parsed).
- A request must arrive whole, head and body, within `read_timeout_s` of its
  first byte (or of the connection opening); a slow or silent client gets 408
  and is disconnected, so slow-loris connections cannot pile up.
- Idle keep-alive connections are closed by uvicorn's own timer.

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

_HEAD_END = b"\r\n\r\n"
LINGER_S = 2.0


def _answer(status: int, reason: bytes, detail: str) -> bytes:
    body = orjson.dumps(
        {"type": "about:blank", "title": reason.decode(), "status": status, "detail": detail}
    )
    return b"".join(
        (
            b"HTTP/1.1 %d %b\r\n" % (status, reason),
            b"content-type: application/problem+json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        )
    )


class GuardedHttpProtocol(HttpToolsProtocol):
    """Set `max_header_bytes` and `read_timeout_s` on the class (`guarded(...)`)."""

    max_header_bytes = 16 * 1024
    read_timeout_s = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_seen = 0
        self._tail = b""
        self._read_timer: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_read_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_read_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # answered already: read and dropped until the linger ends
        if self._in_head and not self._head_fits(data):
            self._refuse(
                _answer(431, b"Request Header Fields Too Large",
                        f"The request line and headers are over {self.max_header_bytes} "
                        "bytes; send fewer or shorter headers."),
            )  # fmt: skip
            return
        if self._read_timer is None:
            self._arm_read_timer()  # the first byte of the next request on this connection
        super().data_received(data)

    def _head_fits(self, data: bytes) -> bool:
        """Whether the head ends within the limit, counting what came before."""
        budget = self.max_header_bytes - self._head_seen
        window = self._tail + data
        seen_before = len(self._tail)
        self._head_seen += len(data)
        self._tail = window[-3:]
        if self._head_seen <= self.max_header_bytes:
            return True
        end = window.find(_HEAD_END, 0, seen_before + max(budget, 0) + len(_HEAD_END))
        return end != -1

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        # What comes next on this connection is the head of another request.
        self._in_head, self._head_seen, self._tail = True, 0, b""
        self._disarm_read_timer()
        super().on_message_complete()

    def _arm_read_timer(self) -> None:
        self._read_timer = self.loop.call_later(self.read_timeout_s, self._read_timed_out)

    def _disarm_read_timer(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _read_timed_out(self) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and self.cycle.response_started:
            self.transport.close()
            return
        self._refuse(
            _answer(408, b"Request Timeout",
                    f"The request did not arrive whole within {self.read_timeout_s:g} s."),
        )  # fmt: skip

    def _refuse(self, answer: bytes) -> None:
        self._disarm_read_timer()
        self._refused = True
        if self.cycle is not None:
            self.cycle.keep_alive = False
        self.transport.write(answer)
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_S, self.transport.close)
        else:
            self.transport.close()


def guarded(*, max_header_bytes: int, read_timeout_s: float) -> type[GuardedHttpProtocol]:
    """The protocol class with these limits, for uvicorn's `http=`."""
    return type(
        "GuardedHttpProtocol",
        (GuardedHttpProtocol,),
        {"max_header_bytes": max_header_bytes, "read_timeout_s": read_timeout_s},
    )
