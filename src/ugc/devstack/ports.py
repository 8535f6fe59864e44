"""The ports `ugc dev` needs, checked all at once before anything starts: each one
taken is named with what moves it and, when it can be found, what holds it."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from ugc.devstack.processes import port_open

HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Wanted:
    port: int
    what: str  # "the APIs"
    moved_by: str  # "--port or UGC_PORT"


class PortsTaken(Exception):
    """Ports another program holds; the message says, a line each, what to do."""


def check_free(wanted: list[Wanted]) -> None:
    taken = [w for w in wanted if port_open(HOST, w.port)]
    if not taken:
        return
    lines = []
    for w in taken:
        holder = holder_of(w.port)
        held = f" by {holder}" if holder else ""
        lines.append(f"port {w.port} for {w.what} is taken{held}: set {w.moved_by} to a free one")
    raise PortsTaken("; ".join(lines) + ".")


def holder_of(port: int) -> str | None:
    """`name (pid N)` of the process listening on the port, when this user can see it."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    name = (proc / "comm").read_text().strip()
                    return f"{name} (pid {proc.name})"
    return None


def _listening_inodes(port: int) -> set[str]:
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # LISTEN
                    found.add(f"socket:[{inode}]")
    return found
