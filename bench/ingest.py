"""make bench-ingest: the events API on one process against the local broker.

Measures, in one run, with wrk as the load generator in its own process:
  (a) single-event requests/s, and the ratio to a bare ASGI app on the same server
      and client (goal >= 0.35);
  (b) events/s with batches of 100 (goal >= 200,000), and the ratio to raw
      producer throughput into the same broker (goal >= 0.35);
  (c) p50/p99 latency at 64 concurrent clients.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from rich.console import Console
from rich.table import Table

from bench.harness import WrkResult, ensure_wrk, http_server, median_of, run_wrk, save
from ugc.auth import issue_token, load_keys
from ugc.devstack.processes import free_port
from ugc.devstack.servers import LocalBroker
from ugc.events.contract import SCHEMA_VERSION
from ugc.events.publisher import ensure_topic
from ugc.settings import Settings

SECRET = "bench-secret-" + "b" * 40
FILM = "6b0b7e92-07e4-48ad-b93c-808a0d3c1f2e"
CONNECTIONS = 64
console = Console()


def event(i: int = 0) -> dict[str, object]:
    return {"type": "view_progress", "film_id": FILM, "position_sec": 60 + i, "duration_sec": 5400}


async def raw_producer_rate(bootstrap: str, topic: str, total: int) -> float:
    """The ceiling: prepared records sent in full batches, as fast as aiokafka goes."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, compression_type="lz4",
        linger_ms=5, max_batch_size=1024 * 1024,
    )  # fmt: skip
    await producer.start()
    value = orjson.dumps({**event(), "schema_version": SCHEMA_VERSION, "user_id": "u" * 36})
    partitions = sorted(await producer.partitions_for(topic))
    partitioner = DefaultPartitioner()
    try:
        started = time.perf_counter()
        futures = []
        sent = 0
        while sent < total:
            key = f"user-{sent % 1000}".encode()
            partition = partitioner(key, partitions, partitions)
            batch = producer.create_batch()
            for _ in range(100):
                batch.append(key=key, value=value, timestamp=None, headers=[])
            batch.close()
            futures.append(await producer.send_batch(batch, topic, partition=partition))
            sent += 100
        await asyncio.gather(*futures)
        return total / (time.perf_counter() - started)
    finally:
        await producer.stop()


def measure(url: str, body: bytes, headers: dict[str, str], seconds: int, runs: int) -> WrkResult:
    results = [run_wrk(url, body, headers, connections=CONNECTIONS, seconds=seconds) for _ in range(runs)]
    return median_of(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8, help="length of one wrk run")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; medians are quoted")
    args = parser.parse_args()
    ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="ugc-bench-"))
    broker = LocalBroker(free_port(), workdir)
    broker.start()
    try:
        settings = Settings(
            _env_file=None, environment="test", data_dir=workdir, jwt_secret=SECRET,  # type: ignore[call-arg, arg-type]
            kafka_bootstrap=broker.bootstrap, kafka_idempotence=False,
            kafka_topic="bench-events", kafka_partitions=6,
        )  # fmt: skip
        asyncio.run(ensure_topic(settings))
        raw = statistics_median([asyncio.run(raw_producer_rate(broker.bootstrap, "bench-events", 300_000)) for _ in range(args.runs)])
        token = issue_token(load_keys(settings), subject=str(uuid.uuid4()), roles=[], ttl_s=3600)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        single = orjson.dumps(event())
        batch = orjson.dumps({"events": [event(i) for i in range(100)]})
        env = {
            "UGC_ENVIRONMENT": "test", "UGC_JWT_SECRET": SECRET,
            "UGC_KAFKA_BOOTSTRAP": broker.bootstrap, "UGC_KAFKA_IDEMPOTENCE": "false",
            "UGC_KAFKA_TOPIC": "bench-events", "UGC_DATA_DIR": str(workdir),
        }  # fmt: skip
        bare_argv = [
            sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--port", "{port}",
            "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        with http_server("bare-asgi", bare_argv, env, workdir) as base:
            bare = measure(base + "/api/v1/events", single, headers, args.seconds, args.runs)
        api_argv = [sys.executable, "-m", "ugc", "serve-events"]
        with http_server("events-api", api_argv, env, workdir) as base:
            api_single = measure(base + "/api/v1/events", single, headers, args.seconds, args.runs)
            api_batch = measure(base + "/api/v1/events", batch, headers, args.seconds, args.runs)
    finally:
        broker.stop()
    report(raw, bare, api_single, api_batch, args)


def statistics_median(values: list[float]) -> float:
    import statistics

    return statistics.median(values)


def report(raw: float, bare: WrkResult, single: WrkResult, batch: WrkResult, args: argparse.Namespace) -> None:
    events_per_s = batch.requests_per_s * 100
    figures = {
        "connections": CONNECTIONS, "seconds_per_run": args.seconds, "runs": args.runs,
        "bare_asgi_rps": bare.requests_per_s,
        "single_event_rps": single.requests_per_s,
        "single_vs_bare": single.requests_per_s / bare.requests_per_s,
        "single_p50_ms": single.p50_ms, "single_p99_ms": single.p99_ms,
        "batch100_rps": batch.requests_per_s, "batch100_events_per_s": events_per_s,
        "batch100_p50_ms": batch.p50_ms, "batch100_p99_ms": batch.p99_ms,
        "raw_producer_events_per_s": raw, "batch_vs_raw_producer": events_per_s / raw,
        "non_2xx": single.non_2xx + batch.non_2xx,
    }  # fmt: skip
    table = Table(title=f"events API, 1 process, {CONNECTIONS} connections, medians of {args.runs}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("goal", justify="right")
    table.add_row("bare ASGI requests/s", f"{bare.requests_per_s:,.0f}", "")
    table.add_row("(a) single-event requests/s", f"{single.requests_per_s:,.0f}", "")
    table.add_row("    ratio to bare ASGI", f"{figures['single_vs_bare']:.2f}", ">= 0.35")
    table.add_row("(b) events/s, batches of 100", f"{events_per_s:,.0f}", ">= 200,000")
    table.add_row("    raw producer events/s", f"{raw:,.0f}", "")
    table.add_row("    ratio to raw producer", f"{figures['batch_vs_raw_producer']:.2f}", ">= 0.35")
    table.add_row("(c) single p50 / p99 ms", f"{single.p50_ms:.2f} / {single.p99_ms:.2f}", "")
    table.add_row("    batch p50 / p99 ms", f"{batch.p50_ms:.2f} / {batch.p99_ms:.2f}", "")
    table.add_row("non-2xx responses", str(figures["non_2xx"]), "0")
    console.print(table)
    console.print(f"saved {save('ingest', figures)}")


if __name__ == "__main__":
    main()
