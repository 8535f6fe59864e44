"""OneWrite: a response's head leaves with its first body bytes, in one write."""

from __future__ import annotations

import asyncio
import gc
import logging
import weakref
from dataclasses import dataclass, field
from typing import Any

import pytest
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from ugc.web.uvicorn_protocol import OneWrite

pytestmark = pytest.mark.unit


@dataclass
class Transport:
    writes: list[bytes] = field(default_factory=list)
    closed: bool = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


@dataclass
class Cycle:
    response_started: bool = False
    transport: Any = None


def held() -> tuple[OneWrite, Transport, Cycle]:
    transport, cycle = Transport(), Cycle()
    return OneWrite(transport, cycle), transport, cycle  # type: ignore[arg-type]


def test_head_and_body_go_out_as_one_write_and_the_rest_as_they_come() -> None:
    writer, transport, cycle = held()
    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # before the response: at once
    cycle.response_started = True
    writer.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    writer.write(b"first")
    writer.write(b"second")
    writer.flush()

    assert transport.writes[1:] == [b"HTTP/1.1 200 OK\r\n\r\nfirst", b"second"]


def test_a_head_without_body_leaves_on_flush_or_close() -> None:
    writer, transport, cycle = held()
    cycle.response_started = True
    writer.write(b"HTTP/1.1 304 Not Modified\r\n\r\n")
    writer.flush()
    writer.flush()
    assert transport.writes == [b"HTTP/1.1 304 Not Modified\r\n\r\n"]

    closing, closed, started = held()
    started.response_started = True
    closing.write(b"HTTP/1.1 500 Internal Server Error\r\n\r\n")
    closing.close()
    assert closed.writes == [b"HTTP/1.1 500 Internal Server Error\r\n\r\n"]
    assert closing.is_closing()
    assert closing.get_extra_info("peername") == "info:peername"


def test_it_lets_go_of_the_cycle_once_the_head_is_seen() -> None:
    """The cycle holds the writer as its transport; a reference back would leave
    every request's cycle to the cyclic collector."""
    writer, transport, cycle = held()
    cycle.transport = writer
    gone = weakref.ref(cycle)
    cycle.response_started = True
    writer.write(b"HTTP/1.1 202 Accepted\r\n\r\n")
    writer.write(b"{}")
    gc.disable()
    try:
        del cycle
        assert gone() is None  # freed by its reference count alone
    finally:
        gc.enable()
    assert transport.writes == [b"HTTP/1.1 202 Accepted\r\n\r\n{}"]


def real_cycle(transport: Transport, method: str = "POST", *, keep_alive: bool = True) -> Any:
    """uvicorn's own response cycle, on the fake transport."""
    done: list[bool] = []
    cycle = RequestResponseCycle(
        scope={"method": method},  # type: ignore[arg-type]
        transport=transport,  # type: ignore[arg-type]
        flow=FlowControl(transport),  # type: ignore[arg-type]
        logger=logging.getLogger("test"),
        access_logger=logging.getLogger("test.access"),
        access_log=False,
        default_headers=[(b"date", b"Wed, 02 Dec 2026 08:00:00 GMT")],
        message_event=asyncio.Event(),
        expect_100_continue=False,
        keep_alive=keep_alive,
        on_response=lambda: done.append(True),
    )
    cycle.done = done  # type: ignore[attr-defined]
    return cycle


JSON = [(b"content-type", b"application/json"), (b"content-length", b"2")]


async def test_a_whole_response_is_one_write_and_completes_the_cycle() -> None:
    transport = Transport()
    cycle = real_cycle(transport)
    writer = OneWrite(transport, cycle)  # type: ignore[arg-type]

    assert writer.respond(202, [*JSON, (b"x-request-id", b"r-1")], b"{}")

    assert transport.writes == [
        b"HTTP/1.1 202 Accepted\r\ndate: Wed, 02 Dec 2026 08:00:00 GMT\r\n"
        b"content-type: application/json\r\ncontent-length: 2\r\nx-request-id: r-1\r\n\r\n{}"
    ]
    assert cycle.response_started
    assert cycle.response_complete
    assert cycle.done == [True]
    assert cycle.message_event.is_set()  # a receive() still waiting hears the end
    assert not transport.closed
    assert not writer.respond(202, JSON, b"{}")  # once only: the cycle is let go of


async def test_a_whole_response_says_close_when_the_connection_ends_and_heads_have_no_body() -> (
    None
):
    transport = Transport()
    assert OneWrite(transport, real_cycle(transport, keep_alive=False)).respond(  # type: ignore[arg-type]
        200, JSON, b"{}"
    )
    assert transport.writes[0].endswith(b"connection: close\r\n\r\n{}")
    assert transport.closed

    head = Transport()
    assert OneWrite(head, real_cycle(head, "HEAD")).respond(200, JSON, b"{}")  # type: ignore[arg-type]
    assert head.writes[0].endswith(b"content-length: 2\r\n\r\n")


async def test_what_is_not_the_simple_case_is_left_to_uvicorns_own_send() -> None:
    transport = Transport()
    unsafe = real_cycle(transport)
    assert not OneWrite(transport, unsafe).respond(200, [(b"x", b"a\r\nset-cookie: x=1")], b"")  # type: ignore[arg-type]
    started = real_cycle(transport)
    started.response_started = True
    assert not OneWrite(transport, started).respond(200, JSON, b"{}")  # type: ignore[arg-type]
    gone = real_cycle(transport)
    gone.disconnected = True
    assert not OneWrite(transport, gone).respond(200, JSON, b"{}")  # type: ignore[arg-type]
    assert transport.writes == []
    assert not unsafe.response_started  # untouched: its own send raises as it would
