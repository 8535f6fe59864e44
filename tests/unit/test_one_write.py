"""OneWrite: a response's head leaves with its first body bytes, in one write."""

from __future__ import annotations

import gc
import weakref
from dataclasses import dataclass, field
from typing import Any

import pytest

from ugc.web.protocol import OneWrite

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
