"""make bench-ingest: the events API on one process against the local broker.

Measures, in one run, with wrk as the load generator in its own process:
  (a) single-event requests/s, and the ratio to a bare ASGI app on the same server
      and client (goal >= 0.35);
  (b) events/s with batches of 100 (goal >= 200,000), and the ratio to raw
      producer throughput into the same broker (goal >= 0.35): prepared records
      in full 1 MiB batches, an event a record, as fast as aiokafka sends them;
      also, for reference, with the API's own record shape (100 events a record);
  (c) p50/p99 latency at 64 concurrent clients;
  (d) overload: 1,000 connections against an API process allowed 32 requests in
      flight, p99 of the accepted requests and whether every refusal was a 503
      with Retry-After, beside the same load with no bound. wrk's clients ask
      again at once instead of waiting as Retry-After says, so that run shows
      what refusing costs when no client backs off: the refused reconnect at
      once, and wait in the listen queue for the server to accept them, so the
      requests that open a connection are timed apart. A third run has 1,000
      clients that wait as Retry-After says (with jitter, as the tracker does);
  (f) whether the direct route pays: single events against a second API process
      that serves the same endpoint on the framework's router
      (`bench.routed events`), and the ratio;
  (e) the cost of durability: (a) and (b) again against a second API process on a
      broker that keeps its log in the local object store (`ugc dev`'s default),
      and the ratios to the same figures on the in-memory broker (`--ephemeral`).
Every request carries an Origin header, as a web player's do (CORS headers on
every answer). The runs alternate between the API and its baselines so that both
see the same machine; each ratio is the median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

import httpx
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from rich.console import Console
from rich.table import Table

from bench.harness import (
    WrkResult,
    ensure_wrk,
    http_server,
    median_of,
    pin_self_to_other_cpu,
    run_wrk,
    save,
    scratch_dir,
)
from bench.overload import Answers, overload, polite, request
from ugc.auth import issue_token, load_keys
from ugc.devstack.processes import free_port
from ugc.devstack.servers import LocalBroker, LocalObjectStore
from ugc.events.contract import EVENT_ADAPTER
from ugc.events.records import Arrival
from ugc.events.topics import ensure_topic
from ugc.settings import Settings

SECRET = "bench-secret-" + "b" * 40
ORIGIN = "http://localhost:3000"  # a local page: allowed by default outside production
FILM = "6b0b7e92-07e4-48ad-b93c-808a0d3c1f2e"
TOPIC = "bench-events"
CONNECTIONS = 64
USERS = 500
console = Console()


def event(i: int = 0) -> dict[str, object]:
    return {"type": "view_progress", "film_id": FILM, "position_sec": 60 + i, "duration_sec": 5400}


async def raw_producer_rate(bootstrap: str, total: int, per_record: int) -> float:
    """The ceiling: prepared records, `per_record` events each, in full batches, as
    fast as aiokafka sends them; events/s."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=False,
        compression_type=Settings(_env_file=None).kafka.compression,  # type: ignore[call-arg]
        max_batch_size=1024 * 1024,
    )
    await producer.start()
    events = [EVENT_ADAPTER.validate_python(event(i)) for i in range(per_record)]
    value = b"\n".join(Arrival.now("u" * 36).records(events))
    partitions = sorted(await producer.partitions_for(TOPIC))
    partitioner = DefaultPartitioner()
    try:
        started = time.perf_counter()
        futures = []
        for partition in partitions:
            key = next(k for k in KEYS if partitioner(k, partitions, partitions) == partition)
            left = total // len(partitions) // per_record
            while left:
                batch = producer.create_batch()
                while left and batch.append(key=key, value=value, timestamp=None, headers=[]):
                    left -= 1
                batch.close()
                futures.append(await producer.send_batch(batch, TOPIC, partition=partition))
        await asyncio.gather(*futures)
        return total / (time.perf_counter() - started)
    finally:
        await producer.stop()


KEYS = [f"user-{n}".encode() for n in range(USERS)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=4, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds; medians")
    args = parser.parse_args()
    ensure_wrk()
    pin_self_to_other_cpu()
    with scratch_dir("ugc-bench-") as workdir:
        broker = LocalBroker(free_port(), workdir)
        objects = LocalObjectStore(free_port(), workdir / "objects", workdir)
        durable = LocalBroker(free_port(), workdir / "durable", objects)
        started: list[LocalObjectStore | LocalBroker] = []
        try:
            for server in (broker, objects, durable):
                server.start()
                started.append(server)
            run(broker, durable, workdir, args)
        finally:
            for server in reversed(started):
                server.stop()


def run(broker: LocalBroker, durable: LocalBroker, workdir: Path, args: argparse.Namespace) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=workdir,
        jwt_secret=SECRET,  # type: ignore[arg-type]
        kafka_bootstrap=broker.bootstrap,
        kafka_idempotence=False,
        kafka_topic=TOPIC,
    )
    asyncio.run(ensure_topic(settings.kafka))
    asyncio.run(ensure_topic(settings.replace(kafka_bootstrap=durable.bootstrap).kafka))
    keys = load_keys(settings)
    tokens = [
        issue_token(keys, subject=str(uuid.uuid4()), roles=[], ttl_s=7200) for _ in range(USERS)
    ]
    headers = {"Content-Type": "application/json", "Origin": ORIGIN}
    single = orjson.dumps(event())
    batch = orjson.dumps({"events": [event(i) for i in range(100)]})
    env = {
        "UGC_ENVIRONMENT": "test",
        "UGC_JWT_SECRET": SECRET,
        "UGC_KAFKA_BOOTSTRAP": broker.bootstrap,
        "UGC_KAFKA_IDEMPOTENCE": "false",
        "UGC_KAFKA_TOPIC": TOPIC,
        "UGC_DATA_DIR": str(workdir),
        # 500 users sending thousands of events a second each is a load test, not a
        # player: the per-user quota would refuse most of it.
        "UGC_EVENTS_PER_SECOND": "1000000000",
        "UGC_EVENTS_BURST": "1000000000",
    }
    uvicorn_bare = [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--port", "{port}"]
    uvicorn_bare += ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
    api_argv = [sys.executable, "-m", "ugc", "serve-events"]

    def wrk(url: str, body: bytes) -> WrkResult:
        return run_wrk(url, body, headers, tokens, connections=CONNECTIONS, seconds=args.seconds)

    # First, while the broker is fresh: the rounds below leave millions of records in
    # its memory, which slows it. The baseline: the same load with no bound.
    wire = [
        request("/api/v1/events", single, {**headers, "Authorization": f"Bearer {t}"})
        for t in tokens
    ]
    overloaded = {}
    runs = (
        ("bounded", OVERLOAD_IN_FLIGHT),
        ("unbounded", 1_000_000),
        ("polite", OVERLOAD_IN_FLIGHT),
    )
    for label, bound in runs:
        bounded_env = {**env, "UGC_MAX_IN_FLIGHT": str(bound)}
        with http_server(f"events-api-{label}", api_argv, bounded_env, workdir) as url:
            console.print(f"overload, {label}: {OVERLOAD_CONNECTIONS} connections ...")
            if label == "polite":
                timed = polite(url + "/api/v1/events", wire,
                               connections=OVERLOAD_CONNECTIONS, seconds=10)  # fmt: skip
                overloaded[label] = (timed, timed)
                continue
            overloaded[label] = overload(
                url + "/api/v1/events", single, headers, tokens,
                connections=OVERLOAD_CONNECTIONS, seconds=10, probe_requests=wire,
            )  # fmt: skip
    rounds: list[dict[str, float]] = []
    results: dict[str, list[WrkResult]] = {
        "bare": [], "single": [], "batch": [], "durable single": [], "durable batch": [],
        "routed single": [],
    }  # fmt: skip
    routed_argv = [sys.executable, "-m", "bench.routed", "events"]
    durable_env = {**env, "UGC_KAFKA_BOOTSTRAP": durable.bootstrap}
    with (
        http_server("bare-asgi", uvicorn_bare, env, workdir) as bare_url,
        http_server("events-api", api_argv, env, workdir) as api_url,
        http_server("events-api-durable", api_argv, durable_env, workdir) as durable_url,
        http_server("events-api-routed", routed_argv, env, workdir) as routed_url,
    ):
        wrk(api_url + "/api/v1/events", single)  # warm-up
        for number in range(1, args.rounds + 1):
            console.print(f"round {number} of {args.rounds} ...")
            bare = wrk(bare_url + "/api/v1/events", single)
            one = wrk(api_url + "/api/v1/events", single)
            hundred = wrk(api_url + "/api/v1/events", batch)
            raw = asyncio.run(raw_producer_rate(broker.bootstrap, 200_000, 1))
            raw_packed = asyncio.run(raw_producer_rate(broker.bootstrap, 800_000, 100))
            results["bare"].append(bare)
            results["single"].append(one)
            results["batch"].append(hundred)
            results["routed single"].append(wrk(routed_url + "/api/v1/events", single))
            results["durable single"].append(wrk(durable_url + "/api/v1/events", single))
            results["durable batch"].append(wrk(durable_url + "/api/v1/events", batch))
            assert "access-control-allow-origin" in httpx.post(
                api_url + "/api/v1/events", content=single,
                headers={**headers, "Authorization": f"Bearer {tokens[0]}"},
            ).headers, "the API did not answer the Origin with CORS headers"  # fmt: skip
            rounds.append(
                {
                    "single_vs_bare": one.requests_per_s / bare.requests_per_s,
                    "batch_vs_raw": hundred.requests_per_s * 100 / raw,
                    "batch_vs_raw_packed": hundred.requests_per_s * 100 / raw_packed,
                    "raw": raw,
                    "raw_packed": raw_packed,
                    "direct_vs_routed": one.requests_per_s
                    / results["routed single"][-1].requests_per_s,
                    "durable_single_vs_memory": results["durable single"][-1].requests_per_s
                    / one.requests_per_s,
                    "durable_batch_vs_memory": results["durable batch"][-1].requests_per_s
                    / hundred.requests_per_s,
                }
            )
    report(
        median_of(results["bare"]),
        median_of(results["single"]),
        median_of(results["batch"]),
        rounds,
        args,
    )
    report_overload(overloaded)
    report_durability(results, rounds)
    routed = median_of(results["routed single"])
    gain = statistics.median(r["direct_vs_routed"] for r in rounds)
    console.print(
        f"(f) single events on the framework's router: {routed.requests_per_s:,.0f} requests/s; "
        f"the direct route serves {gain:.2f} times as many"
    )


def report_durability(results: dict[str, list[WrkResult]], rounds: list[dict[str, float]]) -> None:
    single, batch = median_of(results["durable single"]), median_of(results["durable batch"])
    single_ratio = statistics.median(r["durable_single_vs_memory"] for r in rounds)
    batch_ratio = statistics.median(r["durable_batch_vs_memory"] for r in rounds)
    table = Table(title="(e) the broker's log in the local object store (ugc dev's default)")
    for column in ("figure", "value", "ratio to the in-memory broker"):
        table.add_column(column, justify="right")
    table.add_row("single-event requests/s", f"{single.requests_per_s:,.0f}", f"{single_ratio:.2f}")
    table.add_row(
        "events/s, batches of 100", f"{batch.requests_per_s * 100:,.0f}", f"{batch_ratio:.2f}"
    )
    table.add_row("single p50 / p99 ms", f"{single.p50_ms:.2f} / {single.p99_ms:.2f}", "")
    table.add_row("non-2xx responses", str(single.non_2xx + batch.non_2xx), "")
    console.print(table)
    figures = {
        "durable_single": single.__dict__,
        "durable_batch": batch.__dict__,
        "durable_single_vs_memory": single_ratio,
        "durable_batch_vs_memory": batch_ratio,
    }
    console.print(f"saved {save('ingest-durability', figures)}")


OVERLOAD_CONNECTIONS, OVERLOAD_IN_FLIGHT = 1000, 32


_OVERLOAD_COLUMNS = {
    "bounded": f"{OVERLOAD_IN_FLIGHT} in flight",
    "unbounded": "no bound",
    "polite": f"{OVERLOAD_IN_FLIGHT} in flight, clients wait as told",
}


def report_overload(overloaded: dict[str, tuple[Answers, Answers]]) -> None:
    """(all answers, the timed ones) by run; in the polite run every client is timed."""
    table = Table(title=f"(d) overload: {OVERLOAD_CONNECTIONS} connections sending at once")
    table.add_column("figure")
    for label in overloaded:
        table.add_column(f"{label} ({_OVERLOAD_COLUMNS[label]})", justify="right")
    rows: dict[str, list[str]] = {}
    figures: dict[str, object] = {"connections": OVERLOAD_CONNECTIONS}
    for label, (answers, timed) in overloaded.items():
        refused = {s: n for s, n in answers.statuses.items() if s >= 300}
        shown = ", ".join(f"{status}: {n:,}" for status, n in sorted(refused.items())) or "-"
        timed_ok = len(timed.latencies_ok)
        first = timed.latencies_first
        for name, value in (
            ("accepted (202)", f"{answers.statuses.get(202, 0):,}"),
            ("refused, by status", shown),
            ("refusals without Retry-After", str(answers.refused_without_retry_after)),
            ("accepted p50 / p99 ms (timed clients)",
             f"{timed.p(0.5) * 1000:.1f} / {timed.p(0.99) * 1000:.1f}"),
            ("  of them opening a connection",
             f"{timed.p(0.5, first) * 1000:.1f} / {timed.p(0.99, first) * 1000:.1f}"),
            ("timed accepted / refused",
             f"{timed_ok:,} / {sum(timed.statuses.values()) - timed_ok:,}"),
            ("listen queue, median / max", timed.queue()),
        ):  # fmt: skip
            rows.setdefault(name, []).append(value)
        figures[label] = {
            "statuses": dict(answers.statuses),
            "refused_without_retry_after": answers.refused_without_retry_after,
            "accepted_p50_ms": timed.p(0.5) * 1000,
            "accepted_p99_ms": timed.p(0.99) * 1000,
            "opening_p50_ms": timed.p(0.5, first) * 1000,
            "opening_p99_ms": timed.p(0.99, first) * 1000,
            "timed_statuses": dict(timed.statuses),
            "listen_queue": timed.listen_queue,
        }
    for name, values in rows.items():
        table.add_row(name, *values)
    console.print(table)
    console.print(f"saved {save('ingest-overload', figures)}")


def report(
    bare: WrkResult,
    single: WrkResult,
    batch: WrkResult,
    rounds: list[dict[str, float]],
    args: argparse.Namespace,
) -> None:
    raw = statistics.median(r["raw"] for r in rounds)
    single_ratio = statistics.median(r["single_vs_bare"] for r in rounds)
    batch_ratio = statistics.median(r["batch_vs_raw"] for r in rounds)
    raw_packed = statistics.median(r["raw_packed"] for r in rounds)
    packed_ratio = statistics.median(r["batch_vs_raw_packed"] for r in rounds)
    events_per_s = batch.requests_per_s * 100
    figures = {
        "connections": CONNECTIONS,
        "users": USERS,
        "seconds_per_run": args.seconds,
        "rounds": rounds,
        "bare_asgi_rps": bare.requests_per_s,
        "single_event_rps": single.requests_per_s,
        "single_vs_bare": single_ratio,
        "single_p50_ms": single.p50_ms,
        "single_p99_ms": single.p99_ms,
        "batch100_rps": batch.requests_per_s,
        "batch100_events_per_s": events_per_s,
        "batch100_p50_ms": batch.p50_ms,
        "batch100_p99_ms": batch.p99_ms,
        "raw_producer_events_per_s": raw,
        "batch_vs_raw_producer": batch_ratio,
        "raw_producer_packed_events_per_s": raw_packed,
        "batch_vs_raw_producer_packed": packed_ratio,
        "non_2xx": single.non_2xx + batch.non_2xx,
    }
    table = Table(
        title=f"events API: 1 process, {CONNECTIONS} connections, {USERS} users, "
        f"medians of {args.rounds} rounds"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("goal", justify="right")
    table.add_row("bare ASGI requests/s", f"{bare.requests_per_s:,.0f}", "")
    table.add_row("(a) single-event requests/s", f"{single.requests_per_s:,.0f}", "")
    table.add_row("    ratio to bare ASGI", f"{single_ratio:.2f}", ">= 0.35")
    table.add_row("(b) events/s, batches of 100", f"{events_per_s:,.0f}", ">= 200,000")
    table.add_row("    raw producer, full batches, events/s", f"{raw:,.0f}", "")
    table.add_row("    ratio to it", f"{batch_ratio:.2f}", ">= 0.35")
    table.add_row("    raw producer, 100 events a record, events/s", f"{raw_packed:,.0f}", "")
    table.add_row("    ratio to it (the API's own record shape)", f"{packed_ratio:.2f}", "")
    table.add_row("(c) single p50 / p99 ms", f"{single.p50_ms:.2f} / {single.p99_ms:.2f}", "")
    table.add_row("    batch p50 / p99 ms", f"{batch.p50_ms:.2f} / {batch.p99_ms:.2f}", "")
    table.add_row("non-2xx responses", str(figures["non_2xx"]), "0")
    console.print(table)
    console.print(f"saved {save('ingest', figures)}")


if __name__ == "__main__":
    main()
