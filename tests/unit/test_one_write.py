"""OneWrite: a response's head leaves with its first body bytes, in one write."""

from __future__ import annotations

from dataclasses import dataclass, field

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
