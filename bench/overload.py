"""Overload: wrk drives a thousand connections (each sends its next request as
soon as the last is answered) and counts every answer's status and whether a
refusal said Retry-After; meanwhile a few probe connections time their own
requests, for the latency of what is accepted, and the server's listen queue
(connections the kernel holds until the server accepts them) is sampled. wrk, in
C, leaves the broker on its core the CPU it needs.

`polite` is the same thousand connections as clients that wait as Retry-After
says before asking again (with jitter, as the tracker does), each timing its own
requests.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import ensure_wrk


@dataclass
class Answers:
    latencies_ok: list[float] = field(default_factory=list)
    # of those, the requests that opened their connection (they waited in the
    # listen queue too)
    latencies_first: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    refused_without_retry_after: int = 0
    errors: int = 0
    listen_queue: list[int] = field(default_factory=list)

    def p(self, share: float, latencies: Sequence[float] | None = None) -> float:
        ordered = sorted(self.latencies_ok if latencies is None else latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0

    def queue(self) -> str:
        if not self.listen_queue:
            return "-"
        return f"{statistics.median(self.listen_queue):,.0f} / {max(self.listen_queue):,}"


async def _connection(
    host: str,
    port: int,
    requests: Sequence[bytes],
    stop: float,
    answers: Answers,
    offset: int,
    *,
    polite: bool,
) -> None:
    """Requests one after another until `stop`, reconnecting when the server closes;
    `polite`: after a refusal, waiting as its Retry-After says."""
    n = offset
    while time.monotonic() < stop:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            answers.errors += 1
            await asyncio.sleep(0.01)
            continue
        first = True
        wait = 0.0
        try:
            while time.monotonic() < stop:
                started = time.perf_counter()
                writer.write(requests[n % len(requests)])
                n += 1
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                status = int(lines[0].split(b" ", 2)[1])
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    headers[name.strip().lower()] = value.strip()
                await reader.readexactly(int(headers.get(b"content-length", b"0")))
                elapsed = time.perf_counter() - started
                answers.statuses[status] += 1
                if status < 300:
                    answers.latencies_ok.append(elapsed)
                    if first:
                        answers.latencies_first.append(elapsed)
                elif b"retry-after" not in headers:
                    answers.refused_without_retry_after += 1
                elif polite:
                    wait = float(headers[b"retry-after"]) * random.uniform(1.0, 1.5)
                first = False
                if headers.get(b"connection") == b"close":
                    break
                if wait:
                    await asyncio.sleep(wait)
                    wait = 0.0
        except (OSError, asyncio.IncompleteReadError, ValueError):
            answers.errors += 1
        finally:
            writer.close()
        if wait:
            await asyncio.sleep(wait)


def _listen_queue(port: int) -> int | None:
    """Connections waiting to be accepted on a listening port (the rx_queue of a
    LISTEN socket in /proc/net/tcp), or None where that cannot be read."""
    local = b":%04X 00000000:0000 0A " % port
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            text = Path(table).read_bytes()
        except OSError:
            continue
        at = text.find(local)
        if at != -1:  # then "tx_queue:rx_queue"
            queues = text[at + len(local) :].split(None, 1)[0]
            return int(queues.split(b":")[1], 16)
    return None


def _sample_listen_queue(port: int, stop: float, answers: Answers) -> None:
    """In a thread of its own: reading the socket table takes long enough, with
    thousands of connections, to delay the timed clients if they waited for it."""
    while time.monotonic() < stop:
        found = _listen_queue(port)
        if found is None:
            return
        answers.listen_queue.append(found)
        time.sleep(0.5)


async def probe(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    connections: int,
    seconds: float,
    polite: bool = False,
) -> Answers:
    answers = Answers()
    stop = time.monotonic() + seconds
    sampler = threading.Thread(target=_sample_listen_queue, args=(port, stop, answers))
    sampler.start()
    await asyncio.gather(
        *(
            _connection(host, port, requests, stop, answers, n * 7, polite=polite)
            for n in range(connections)
        ),
    )
    sampler.join()
    return answers


_COUNTING = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {}; missing = 0 end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 300 and headers["retry-after"] == nil then missing = missing + 1 end
end
function done(summary, latency, requests)
  local totals, miss = {}, 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do totals[k] = (totals[k] or 0) + v end
    miss = miss + t:get("missing")
  end
  for k, v in pairs(totals) do io.write(string.format("status %d %d\n", k, v)) end
  io.write(string.format("missing %d\n", miss))
end
"""


def overload(
    url: str,
    body: bytes,
    headers: dict[str, str],
    tokens: Sequence[str],
    *,
    connections: int,
    seconds: int,
    probe_requests: Sequence[bytes],
    probes: int = 16,
) -> tuple[Answers, Answers]:
    """(all answers as wrk counted them, the probes' own answers with latencies)."""
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body.decode())}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    lines.append("local tokens = {" + ",".join(json.dumps(f"Bearer {t}") for t in tokens) + "}")
    lines.append("local i = 0")
    lines.append(
        'function request() i = i % #tokens + 1; wrk.headers["Authorization"] = tokens[i]; '
        "return wrk.format() end"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + _COUNTING)
    argv = [ensure_wrk(), "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script.name, url]
    try:
        running = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
        probed = asyncio.run(
            probe(host, int(port), probe_requests, connections=probes, seconds=seconds - 1)
        )
        out, _ = running.communicate(timeout=seconds + 60)
    finally:
        os.unlink(script.name)
    counted = Answers()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "status":
            counted.statuses[int(parts[1])] += int(parts[2])
        elif len(parts) == 2 and parts[0] == "missing":
            counted.refused_without_retry_after = int(parts[1])
    return counted, probed


def polite(url: str, requests: Sequence[bytes], *, connections: int, seconds: int) -> Answers:
    """The same load from clients that wait as Retry-After says; every one timed."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    return asyncio.run(
        probe(host, int(port), requests, connections=connections, seconds=seconds, polite=True)
    )


def request(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: bench", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
