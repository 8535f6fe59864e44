"""make bench-strangers: what strangers cost signed-in callers (issue: authenticate
before you pay).

One events API process (its own core) on the in-memory broker. Signed-in
requests are timed ten at a time, first alone, then while strangers flood the
server from the other core: 600 connections that send a beacon's head and never
its body, and 50 gzip beacons a second with bad tokens (a gzip beacon was
inflated and parsed before its token was looked at: 136-144 ms of CPU each).
It prints p50/p99 of the signed-in requests before and during the flood, how
they were answered, and the server's resident memory before, at the peak and
after the flood, with the ratios.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import statistics
import sys
import time
import uuid
from pathlib import Path

import httpx
import orjson
from rich.console import Console
from rich.table import Table

from bench.harness import pin_self_to_other_cpu, save, scratch_dir, server_process
from ugc.auth import issue_token, load_keys
from ugc.devstack.processes import free_port
from ugc.devstack.servers import LocalBroker
from ugc.settings import Settings

SECRET = "bench-secret-" + "s" * 40
SLOW, GZIP_PER_S, FLOOD_S, SIGNED = 600, 50, 8.0, 200
console = Console()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def signed(base: str, token: str, count: int) -> tuple[list[float], list[int]]:
    event = {"type": "play", "film_id": str(uuid.uuid4()), "position_sec": 1.0}
    auth = {"Authorization": f"Bearer {token}"}
    took: list[float] = []
    statuses: list[int] = []

    async def one(client: httpx.AsyncClient) -> None:
        started = time.perf_counter()
        answer = await client.post("/api/v1/events", json=event, headers=auth)
        took.append((time.perf_counter() - started) * 1000)
        statuses.append(answer.status_code)

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for _ in range(count // 10):
            await asyncio.gather(*(one(client) for _ in range(10)))
            await asyncio.sleep(0.02)
    return took, statuses


async def flood(port: int, pid: int, stop: asyncio.Event, peak: list[float]) -> None:
    head = (
        b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
        b"Content-Length: 60000\r\n\r\n{"
    )
    writers = []
    for _ in range(SLOW):
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head)
            writers.append(writer)
    bomb = gzip.compress(
        orjson.dumps({"access_token": "x.y.z", "events": [{"type": "play"}] * 20_000})
    )
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        while not stop.is_set():
            peak.append(rss_mib(pid))
            await asyncio.gather(
                *(
                    client.post(
                        "/api/v1/events",
                        content=bomb,
                        headers={"Content-Type": "text/plain", "Content-Encoding": "gzip"},
                    )
                    for _ in range(GZIP_PER_S // 10)
                ),
                return_exceptions=True,
            )
            await asyncio.sleep(0.1)
    for writer in writers:
        writer.close()


async def measure(base: str, port: int, pid: int, token: str) -> dict[str, object]:
    alone, alone_status = await signed(base, token, SIGNED)
    before = rss_mib(pid)
    stop, peak = asyncio.Event(), [before]
    flooding = asyncio.create_task(flood(port, pid, stop, peak))
    await asyncio.sleep(1.0)
    during, during_status = await signed(base, token, SIGNED)
    await asyncio.sleep(max(0.0, FLOOD_S - 1.0))
    stop.set()
    await flooding
    await asyncio.sleep(3.0)
    after = rss_mib(pid)
    return {
        "alone_p50_ms": statistics.median(alone),
        "alone_p99_ms": sorted(alone)[int(len(alone) * 0.99) - 1],
        "during_p50_ms": statistics.median(during),
        "during_p99_ms": sorted(during)[int(len(during) * 0.99) - 1],
        "alone_statuses": sorted(set(alone_status)),
        "during_statuses": {s: during_status.count(s) for s in set(during_status)},
        "rss_before_mib": before,
        "rss_peak_mib": max(peak),
        "rss_after_mib": after,
    }


def main() -> None:
    pin_self_to_other_cpu()
    with scratch_dir("ugc-bench-strangers-") as workdir:
        broker = LocalBroker(free_port(), workdir)
        broker.start()
        try:
            settings = Settings(_env_file=None, environment="test", data_dir=workdir,  # type: ignore[call-arg]
                                jwt_secret=SECRET)  # type: ignore[arg-type]  # fmt: skip
            token = issue_token(load_keys(settings), subject=str(uuid.uuid4()), roles=[], ttl_s=600)
            env = {
                "UGC_ENVIRONMENT": "test", "UGC_JWT_SECRET": SECRET,
                "UGC_KAFKA_BOOTSTRAP": broker.bootstrap, "UGC_KAFKA_IDEMPOTENCE": "false",
                "UGC_DATA_DIR": str(workdir), "UGC_EVENTS_PER_SECOND": "100000",
                "UGC_EVENTS_BURST": "100000",
            }  # fmt: skip
            argv = [sys.executable, "-m", "ugc", "serve-events"]
            with server_process("events-api", argv, env, workdir) as (base, pid):
                port = int(base.rsplit(":", 1)[1])
                figures = asyncio.run(measure(base, port, pid, token))
        finally:
            broker.stop()
    report(figures)


def report(figures: dict[str, object]) -> None:
    table = Table(title=f"signed-in requests while {SLOW} slow strangers and "
                        f"{GZIP_PER_S}/s gzip beacons with bad tokens flood")  # fmt: skip
    for column in ("figure", "alone", "during the flood"):
        table.add_column(column, justify="right")
    table.add_row("p50 / p99 ms",
                  f"{figures['alone_p50_ms']:.1f} / {figures['alone_p99_ms']:.1f}",
                  f"{figures['during_p50_ms']:.1f} / {figures['during_p99_ms']:.1f}")  # fmt: skip
    table.add_row("statuses", str(figures["alone_statuses"]), str(figures["during_statuses"]))
    console.print(table)
    before, peak, after = (float(figures[k]) for k in ("rss_before_mib", "rss_peak_mib",  # type: ignore[arg-type]
                                                        "rss_after_mib"))  # fmt: skip
    console.print(f"server RSS: before {before:.0f} MiB, peak {peak:.0f} MiB, "
                  f"after {after:.0f} MiB ({after / before:.2f} of before)")  # fmt: skip
    console.print(f"saved {save('strangers', figures)}")


if __name__ == "__main__":
    main()
