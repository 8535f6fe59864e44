"""The one module that knows uvicorn's internals: the HTTP/1.1 protocol every ugc
server runs, uvicorn's httptools protocol with the guards it lacks, and the
one-write path of a whole response.

uvicorn documents none of what is used here (`HttpToolsProtocol`'s hooks and
fields, `RequestResponseCycle`'s state, `STATUS_LINE`), so it is kept in this
module alone, `pyproject.toml` pins uvicorn to the minor release it was tested
with (`TESTED_MINOR`), and `check_uvicorn()` (run by every server at start and
by a unit test) fails loudly, naming what is missing, on a release that moved it.

The guards, each explained where it is done: head size (431), read deadline
(408), requests in flight (503 at once; strangers apart, `web.anonymous`),
lingering close. One write: `OneWrite`, found in the scope at `WHOLE_RESPONSE`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from importlib.metadata import version
from typing import Any

from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from ugc.observability.metrics import HTTP_SHED, HTTP_STRANGERS_REFUSED
from ugc.observability.scope import WHOLE_RESPONSE
from ugc.web.anonymous import AnonymousBudget, is_stranger
from ugc.web.cors import CorsPolicy
from ugc.web.raw_answers import raw_problem, with_cors

TESTED_MINOR = (0, 55)
_HEAD_END = b"\r\n\r\n"
LINGER_S = 2.0
NEVER_SHED = frozenset({b"/healthz", b"/readyz", b"/metrics"})
# What uvicorn refuses in a header value. Names are the code's own constants;
# the same test keeps control characters out of them too.
_UNSAFE_HEADER = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_NO_BODY = frozenset({204, 304})
# The hooks overridden here; the fields used are exercised by tests on uvicorn's classes.
_HOOKS = ("connection_made", "connection_lost", "data_received", "on_message_begin",
          "on_headers_complete", "on_body", "on_message_complete")  # fmt: skip


class IncompatibleUvicorn(RuntimeError):
    pass


def check_uvicorn() -> None:
    """Refuse, saying what to do, a uvicorn outside the tested minor or without the
    hooks this module overrides; every server runs it before it starts."""
    installed = version("uvicorn")
    minor = tuple(int(part) for part in installed.split(".")[:2])
    missing = [hook for hook in _HOOKS if not callable(getattr(HttpToolsProtocol, hook, None))]
    if minor != TESTED_MINOR or missing or 200 not in STATUS_LINE:
        tested = ".".join(map(str, TESTED_MINOR))
        raise IncompatibleUvicorn(
            f"uvicorn {installed} is not the {tested}.x that ugc's HTTP layer was tested "
            f"with (missing: {', '.join(missing) or 'nothing named'}); install "
            f"uvicorn=={tested}.* or port ugc.web.uvicorn_protocol first."
        )


class OneWrite:
    """The transport as one response's cycle sees it: the head is held and goes out
    joined to the body (or alone when there is none, or on close); the rest passes.
    It lets go of the cycle once the head is seen: a reference back made every
    request garbage for the cyclic collector (a tenth of the events API's CPU).
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
        """The whole response (`headers` with its content-length) in one write, as the
        cycle would send it; False, nothing done, outside the simple case (started,
        paused, client gone, access log, a header uvicorn would refuse)."""
        cycle = self._cycle
        if cycle is None or cycle.response_started or cycle.disconnected:
            return False
        if cycle.flow.write_paused or cycle.access_log:
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


def _first(step: Callable[[], None], then: Callable[[], None]) -> Callable[[], None]:
    def on_response() -> None:
        step()
        then()

    return on_response


class GuardedHttpProtocol(HttpToolsProtocol):
    """Limits are set on the class (`guarded(...)`). Each connection has one timer,
    ticking every half timeout, that looks at when the request being read began,
    instead of a timer armed and cancelled for every request."""

    max_header_bytes = 16 * 1024
    read_timeout_s = 10.0
    max_in_flight = 512
    busy = b""  # the 503, made once by `guarded`
    cors: CorsPolicy | None = None
    anonymous: AnonymousBudget | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shedding = False
        self._in_head = True
        self._head_seen = 0
        self._tail = b""
        self._reading_since: float | None = None
        self._ticker: asyncio.TimerHandle | None = None
        self._refused = False
        self._stranger: str | None = None  # whose anonymous request is in flight

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._reading_since = self.loop.time()  # a connection that says nothing is cut too
        self._ticker = self.loop.call_later(self.read_timeout_s / 2, self._tick)

    def connection_lost(self, exc: Exception | None) -> None:
        self._release_stranger()
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
                    raw_problem(431, b"Request Header Fields Too Large",
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

    def on_message_begin(self) -> None:
        # A request pipelined behind another begins in the middle of a read.
        if self._reading_since is None:
            self._reading_since = self.loop.time()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._in_head = False
        budget, client = self.anonymous, self.client[0] if self.client else "unknown"
        method = self.parser.get_method()
        stranger = budget and self._may_shed() and is_stranger(method, self.headers)
        if stranger:  # held apart from authenticated work, and bounded per client
            refused = not budget.admit(client)  # type: ignore[union-attr]
        else:
            strangers = budget.total if budget is not None else 0
            refused = len(self.tasks) - strangers >= self.max_in_flight and self._may_shed()
        if refused:
            self._shedding = True
            (HTTP_STRANGERS_REFUSED if stranger else HTTP_SHED).inc()
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
            cycle.on_response = _first(held.flush, cycle.on_response)
            cycle.scope[WHOLE_RESPONSE] = held  # type: ignore[literal-required]
            if stranger:  # its share is freed when it is answered, or its client gone
                self._stranger = client
                cycle.on_response = _first(self._release_stranger, cycle.on_response)
        elif stranger:
            budget.release(client)  # type: ignore[union-attr]

    def _release_stranger(self) -> None:
        if self._stranger is not None and self.anonymous is not None:
            self.anonymous.release(self._stranger)
        self._stranger = None

    def _may_shed(self) -> bool:
        """Not health or metrics, and no earlier answer pending on this connection
        (answers go out in the order of the requests)."""
        previous = self.cycle
        if previous is not None and not previous.response_complete:
            return False
        return self.url.split(b"?", 1)[0] not in NEVER_SHED

    def busy_for(self, headers: list[tuple[bytes, bytes]]) -> bytes:
        return with_cors(self.busy, headers, self.cors)

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
            cycle = self.cycle
            if cycle is not None and cycle.response_started and not cycle.response_complete:
                self.transport.close()  # an answer is half out: no room for a 408
                return
            self._refuse(
                raw_problem(408, b"Request Timeout",
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
