"""make bench-etl: Kafka -> ClickHouse (embedded chdb) and the analytics reads.

In one run:
  (1) events/s from Kafka to chdb through one loader, and the ratio to a plain
      insert of the same rows into chdb (goals >= 300,000 events/s, >= 0.5), with
      records as batch requests make them (100 events of a viewing session each),
      and, for comparison, with every event of a batch for another film (the worst
      case for the per-viewer aggregates) and as single-event requests make them;
  (2) end-to-end freshness, API 202 -> row visible in ClickHouse, p50/p95 at a
      sustained 10,000 events/s through the API and a loader process (goal p95 <= 2 s);
  (3) each analytics query on 10 million events (goal <= 100 ms), right after
      the bulk load (parts not merged yet, merges running) and once merged, with
      the events in viewing sessions as players send them, and scattered (every
      event from a viewer and film of its own, the worst case for viewer counts).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from rich.console import Console
from rich.table import Table

from bench.harness import http_server, save, scratch_dir
from ugc.analytics.api import AnalyticsState
from ugc.analytics.app import open_analytics_service
from ugc.analytics.queries import AnalyticsQueries
from ugc.analytics.trending import Window
from ugc.analytics.viewings import ViewingQueries
from ugc.auth import issue_token, load_keys
from ugc.devstack.processes import ManagedProcess, free_port
from ugc.devstack.servers import LocalBroker
from ugc.events.contract import EVENT_ADAPTER, RECORD_FIELDS
from ugc.events.records import Arrival, pack_lines
from ugc.events.topics import ensure_topic
from ugc.loader.process import open_loader
from ugc.settings import Settings
from ugc.warehouse.embedded import ChdbSink
from ugc.warehouse.migrations import migrate

SECRET = "bench-secret-" + "e" * 40
console = Console()


def settings_for(workdir: Path, bootstrap: str, topic: str, database: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=workdir,
        jwt_secret=SECRET,  # type: ignore[arg-type]
        kafka_bootstrap=bootstrap,
        kafka_idempotence=False,
        kafka_topic=topic,
        kafka_partitions=6,
        clickhouse_database=database,
        loader_group=f"bench-{database}",
        loader_session_timeout_ms=6000,
    )


def records(count: int, per_record: int, shape: str) -> list[tuple[bytes, bytes]]:
    """(key, value) of records as the API writes them: `per_record` events of one
    user (one request) in each, as JSON lines.

    "sessions": events as a player sends them, a beat every 30 s of one film, 100
    per viewing session (a batch request carries one session's beats).
    "scattered": every event of a request for another film, the worst case for
    the per film, day and viewer aggregates (one row per event instead of one
    per session).
    """
    films = [uuid.uuid4() for _ in range(500)]
    out = []
    for first in range(0, count, per_record):
        numbers = range(first, min(count, first + per_record))
        if shape == "sessions":
            user = f"user-{(first // 100) % 5000}"
            film_of = [films[(n // 100 * 7919) % 500] for n in numbers]
        else:
            user = f"user-{(first // per_record) % 5000}"
            film_of = [films[n % 500] for n in numbers]
        arrival = Arrival.now(user)
        events = [
            EVENT_ADAPTER.validate_python(
                {
                    "type": "view_progress",
                    "film_id": film,
                    "position_sec": n % 100 * 30,
                    "duration_sec": 5400,
                }
            )
            for n, film in zip(numbers, film_of, strict=True)
        ]
        out += [(user.encode(), value) for value in pack_lines(arrival.records(events))]
    return out


async def produce(bootstrap: str, topic: str, rows: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=False,
        compression_type=Settings(_env_file=None).kafka.compression,  # type: ignore[call-arg]
        max_batch_size=1024 * 1024,
        linger_ms=5,
    )
    await producer.start()
    partitions = sorted(await producer.partitions_for(topic))
    partitioner = DefaultPartitioner()
    by_partition: dict[int, list[tuple[bytes, bytes]]] = {}
    for key, value in rows:
        by_partition.setdefault(partitioner(key, partitions, partitions), []).append((key, value))
    futures = []
    for partition, group in by_partition.items():
        batch = producer.create_batch()
        for key, value in group:
            if batch.append(key=key, value=value, timestamp=None, headers=[]) is None:
                batch.close()
                futures.append(await producer.send_batch(batch, topic, partition=partition))
                batch = producer.create_batch()
                batch.append(key=key, value=value, timestamp=None, headers=[])
        batch.close()
        futures.append(await producer.send_batch(batch, topic, partition=partition))
    await asyncio.gather(*futures)
    await producer.stop()


async def loader_throughput(sink: ChdbSink, settings: Settings, total: int) -> float:
    async with open_loader(settings, sink) as loader:
        task = asyncio.create_task(loader.run())
        while loader.stats.rows == 0:  # noqa: ASYNC110 - the group join is not in the figure
            await asyncio.sleep(0.01)
        started, first = time.perf_counter(), loader.stats.rows
        while loader.stats.rows < total:
            await asyncio.sleep(0.01)
            assert not task.done(), task
        elapsed = time.perf_counter() - started
        loader.stop()
        await task
    return (total - first) / elapsed


async def plain_insert(
    sink: ChdbSink, settings: Settings, rows: list[tuple[bytes, bytes]], chunk: int
) -> float:
    """Rows/s of the same events inserted straight from memory, `chunk` rows an insert."""
    await migrate(sink, settings.clickhouse)
    table = f"{settings.clickhouse.database}.events"
    lines = b"\n".join(value for _, value in rows).split(b"\n")
    blocks = [b"\n".join(lines[i : i + chunk]) for i in range(0, len(lines), chunk)]
    started = time.perf_counter()
    for number, block in enumerate(blocks):
        await sink.insert_json_rows(table, RECORD_FIELDS, block, dedup_token=f"plain-{number}")
    return len(lines) / (time.perf_counter() - started)


async def drive_api(base: str, tokens: list[str], seconds: int, rate: int) -> dict[str, float]:
    """`rate` events/s in requests of 100 for `seconds`; each event's 202 time by id."""
    acked: dict[str, float] = {}
    per_second = rate // 100
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:

        async def one(token: str) -> None:
            ids = [str(uuid.uuid4()) for _ in range(100)]
            batch = [
                {
                    "type": "view_progress",
                    "film_id": str(uuid.uuid4()),
                    "position_sec": 1,
                    "event_id": i,
                }
                for i in ids
            ]
            response = await client.post(
                "/api/v1/events",
                json={"events": batch},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 202, response.text
            now = time.time()
            acked.update(dict.fromkeys(ids, now))

        started = time.monotonic()
        pending = []
        per_tick = per_second // 10
        for tick in range(seconds * 10):
            # Every user in turn: 10,000 events/s over 200 users is 50 a user, within
            # the API's per-user quota (100/s), as a real audience would be.
            pending += [
                asyncio.create_task(one(tokens[(tick * per_tick + j) % len(tokens)]))
                for j in range(per_tick)
            ]
            await asyncio.sleep(max(0, started + (tick + 1) / 10 - time.monotonic()))
        await asyncio.gather(*pending)
    return acked


def freshness(workdir: Path, broker: LocalBroker, seconds: int) -> tuple[dict[str, float], Path]:
    settings = settings_for(workdir, broker.bootstrap, "fresh-events", "ugc")
    asyncio.run(ensure_topic(settings.kafka))
    env = {
        "UGC_ENVIRONMENT": "test", "UGC_JWT_SECRET": SECRET, "UGC_DATA_DIR": str(workdir),
        "UGC_KAFKA_BOOTSTRAP": broker.bootstrap, "UGC_KAFKA_IDEMPOTENCE": "false",
        "UGC_KAFKA_TOPIC": "fresh-events", "UGC_LOADER_GROUP": "fresh-loader",
        "UGC_METRICS_PORT": str(free_port()),
    }  # fmt: skip
    loader = ManagedProcess(
        "loader",
        [sys.executable, "-m", "ugc", "etl"],
        workdir / "loader.log",
        env={**os.environ, **env},
    )
    loader.start()
    keys = load_keys(settings)
    tokens = [
        issue_token(keys, subject=str(uuid.uuid4()), roles=[], ttl_s=3600) for _ in range(200)
    ]
    try:
        with http_server(
            "events-api", [sys.executable, "-m", "ugc", "serve-events"], env, workdir
        ) as base:
            log = workdir / "loader.log"
            while "loader consuming" not in (log.read_text() if log.exists() else ""):
                time.sleep(0.1)
            time.sleep(7)  # the group's first rebalance
            acked = asyncio.run(drive_api(base, tokens, seconds, 10_000))
            time.sleep(3)  # the last batch in
    finally:
        loader.stop()
    return acked, workdir / "clickhouse"


async def visible_delays(sink: ChdbSink, acked: dict[str, float]) -> list[float]:
    rows = await sink.query(
        "SELECT toString(event_id) AS id, toUnixTimestamp64Milli(loaded_at) AS at FROM ugc.events"
    )
    seen = {r["id"]: r["at"] / 1000 for r in rows}
    missing = [i for i in acked if i not in seen]
    assert not missing, f"{len(missing)} acknowledged events never reached ClickHouse"
    return sorted(seen[i] - t for i, t in acked.items())


# Two shapes of 10M events over 30 days, 5,000 films and 100,000 viewers. Players
# send a beat every ~30 s while a film plays, so real events come in viewing
# sessions: "sessions" is 100,000 sessions of 100 events (play, progress, pauses,
# stop or end), each a viewer, a film and a start drawn at random. "scattered" is
# the worst case for what merges viewer states: every event from a viewer and film
# drawn on its own, so 10M events are ~10M viewer-film-days.
SHAPES = {
    "sessions": """
        WITH intDiv(number, 100) AS session, number % 100 AS beat,
             now64(6) - toIntervalSecond(cityHash64(session, 1) % 2592000)
                      + toIntervalSecond(beat * 30) AS at
        SELECT generateUUIDv4(number),
               multiIf(beat = 0, 'play', beat = 99, if(session % 3 = 0, 'end', 'stop'),
                       beat % 20 = 10, 'pause', 'view_progress'),
               concat('user-', toString(cityHash64(session, 2) % 100000)),
               toUUID(concat('00000000-0000-4000-8000-',
                             leftPad(toString(cityHash64(session, 3) % 5000), 12, '0'))),
               1, at, at, toFloat64(beat * 30), 5400.
        FROM numbers(10000000)
    """,
    "scattered": """
        SELECT generateUUIDv4(number),
               ['view_progress', 'play', 'pause', 'stop', 'end'][1 + number % 5],
               concat('user-', toString(intHash32(number) % 100000)),
               toUUID(concat('00000000-0000-4000-8000-',
                             leftPad(toString(number % 5000), 12, '0'))),
               1, now64(6) - toIntervalSecond(number % 2592000),
               now64(6) - toIntervalSecond(number % 2592000),
               toFloat64(number % 5400), 5400.
        FROM numbers(10000000)
    """,
}


Percentiles = tuple[float, float]  # p50, p99 in ms
VIEWERS = 300


async def ten_million(
    sink: ChdbSink, settings: Settings, shape: str
) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[Percentiles, Percentiles]]]:
    """Each analytics query over 10M generated events of a shape, in ms (medians of
    15 runs): right after the load, and once the tables are merged. A viewer's rows
    (Continue Watching, history) are computed for each of 300 viewers in turn, and
    said as p50 and p99."""
    await migrate(sink, settings.clickhouse)
    db = settings.clickhouse.database
    started = time.perf_counter()
    await sink.execute(
        f"""
        INSERT INTO {db}.events (event_id, type, user_id, film_id, schema_version,
                                 received_at, occurred_at, position_sec, duration_sec)
        {SHAPES[shape]}
        """
    )
    console.print(f"generated 10,000,000 events ({shape}) in {time.perf_counter() - started:.0f} s")
    queries = AnalyticsQueries(sink, db)
    # A viewer and a film that the data hold, whatever its shape.
    sample = (await sink.query(f"SELECT user_id, film_id FROM {db}.events LIMIT 1"))[0]
    user, film = sample["user_id"], uuid.UUID(str(sample["film_id"]))
    today = datetime.now(UTC).date()
    month = today - timedelta(days=30)
    # The API answers the last 30 days from the ranking it keeps; refreshed once
    # here, so that no refresh runs in the middle of the timings.
    opened = open_analytics_service(settings.replace(analytics_rankings_refresh_s=3600), sink=sink)
    token = issue_token(load_keys(settings), subject=str(uuid.uuid4()), roles=[], ttl_s=3600)
    viewers = [
        row["user_id"]
        for row in await sink.query(f"SELECT DISTINCT user_id FROM {db}.events LIMIT {VIEWERS}")
    ]
    viewings = ViewingQueries(queries, db, settings.viewing)
    rows: dict[str, Callable[[str], Awaitable[object]]] = {
        "continue watching of a viewer": lambda who: viewings.continue_watching(who, 20, None),
        "history of a viewer": lambda who: viewings.history(who, 20, None),
    }
    async with opened as api:
        state: AnalyticsState = api.api.state.service
        assert state.rankings is not None, "the bench times the kept ranking"
        await state.rankings.refresh()
        await state.trending.refresh()
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://ugc.bench") as client:

            async def kept_top_films() -> None:
                response = await client.get(
                    "/api/v1/analytics/films/top", headers={"Authorization": f"Bearer {token}"}
                )
                assert "age" in response.headers, "not the kept ranking"

            async def kept_trending() -> None:
                response = await client.get(
                    "/api/v1/analytics/films/trending",
                    params={"window": "week"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert "age" in response.headers, "not the kept trending"

            cases: dict[str, Callable[[], Awaitable[object]]] = {
                "film stats (30 days)": lambda: queries.film_stats(film, month, today),
                "top films (30 days), computed": lambda: queries.top_films(month, today, 10),
                "top films (30 days), API, kept": kept_top_films,
                "trending (week), computed": lambda: state.trending.ask(Window.week, 10),
                "trending (week), API, kept": kept_trending,
                "resume points of a user": lambda: queries.resume_points(user, 20),
                "average position per film": lambda: queries.average_position(film),
                "max position, user and film": lambda: queries.max_position(user, film),
                "distinct viewers per film": lambda: queries.distinct_viewers(film),
                "distinct films per user": lambda: queries.distinct_films(user),
            }
            fresh = await _time_each(cases)
            rows_fresh = {name: await _per_viewer(run, viewers) for name, run in rows.items()}
            # What the background merges converge to, and where a table that grew
            # over days mostly is: one state per key instead of one per insert block.
            started = time.perf_counter()
            for table in ("events", "film_daily", "film_day_viewers", "film_viewer_hours"):
                await sink.execute(f"OPTIMIZE TABLE {db}.{table} FINAL")
            console.print(f"merged the tables in {time.perf_counter() - started:.0f} s")
            merged = await _time_each(cases)
            rows_merged = {name: await _per_viewer(run, viewers) for name, run in rows.items()}
    return (
        {name: (fresh[name], merged[name]) for name in cases},
        {name: (rows_fresh[name], rows_merged[name]) for name in rows},
    )


async def _per_viewer(run: Callable[[str], Awaitable[object]], viewers: list[str]) -> Percentiles:
    """p50 and p99 in ms of the query for each viewer in turn, after one to warm up."""
    await run(viewers[0])
    runs = []
    for who in viewers:
        t = time.perf_counter()
        await run(who)
        runs.append((time.perf_counter() - t) * 1000)
    cuts = statistics.quantiles(runs, n=100)
    return cuts[49], cuts[98]


async def _time_each(cases: dict[str, Callable[[], Awaitable[object]]]) -> dict[str, float]:
    """The median of 15 runs of each query, after one to warm up, in ms."""
    timings = {}
    for name, run in cases.items():
        await run()
        runs = []
        for _ in range(15):
            t = time.perf_counter()
            await run()
            runs.append((time.perf_counter() - t) * 1000)
        timings[name] = statistics.median(runs)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="events for the loader figure"
    )
    parser.add_argument("--seconds", type=int, default=20, help="length of the freshness run")
    args = parser.parse_args()
    with scratch_dir("ugc-bench-etl-") as workdir:
        broker = LocalBroker(free_port(), workdir)
        broker.start()
        try:
            acked, clickhouse = freshness(workdir, broker, args.seconds)
            asyncio.run(measure(workdir, broker, clickhouse, acked, args))
        finally:
            broker.stop()


ROUNDS = 3
# Kafka records as the API writes them: (events a record, shape of the events).
# A batch request's 100 events make one record, a single-event request's one.
LOADS = {
    "batches of 100, sessions": (100, "sessions"),
    "batches of 100, scattered": (100, "scattered"),
    "one event a record, sessions": (1, "sessions"),
}
MAIN = "batches of 100, sessions"


async def measure(
    workdir: Path,
    broker: LocalBroker,
    clickhouse: Path,
    acked: dict[str, float],
    args: argparse.Namespace,
) -> None:
    sink = ChdbSink(clickhouse)
    try:
        delays = await visible_delays(sink, acked)
        shapes = sorted({shape for _, shape in LOADS.values()})
        loader: dict[str, list[float]] = {name: [] for name in LOADS}
        plain: dict[str, list[float]] = {shape: [] for shape in shapes}
        topics = {name: f"load-events-{n}" for n, name in enumerate(LOADS)}
        rows = {name: records(args.events, *load) for name, load in LOADS.items()}
        for name, topic in topics.items():
            await ensure_topic(settings_for(workdir, broker.bootstrap, topic, "x").kafka)
            await produce(broker.bootstrap, topic, rows[name])
        # Alternating rounds; each loader reads its topic from the start, in a
        # consumer group and a database of its own. The plain insert takes the
        # same events, from memory.
        for round_ in range(ROUNDS):
            for number, (name, topic) in enumerate(topics.items()):
                db = f"bench_loader_{number}_{round_}"
                settings = settings_for(workdir, broker.bootstrap, topic, db)
                loader[name].append(await loader_throughput(sink, settings, args.events))
            for shape in shapes:
                settings = settings_for(workdir, broker.bootstrap, "x", f"plain_{shape}_{round_}")
                events = next(rows[name] for name, (n, s) in LOADS.items() if s == shape)
                plain[shape].append(await plain_insert(sink, settings, events, 50_000))
            console.print(
                f"round {round_ + 1}: loader "
                + ", ".join(f"{name} {rate[-1]:,.0f}/s" for name, rate in loader.items())
                + "; plain insert "
                + ", ".join(f"{shape} {rate[-1]:,.0f}/s" for shape, rate in plain.items())
            )
        timings, rows = {}, {}
        for shape in SHAPES:
            timings[shape], rows[shape] = await ten_million(
                sink, settings_for(workdir, broker.bootstrap, "x", f"bench_{shape}"), shape
            )
    finally:
        await sink.close()
    report(loader, plain, delays, timings, rows, args)


def report(
    loader: dict[str, list[float]],
    plain: dict[str, list[float]],
    delays: list[float],
    timings: dict[str, dict[str, tuple[float, float]]],
    rows: dict[str, dict[str, tuple[Percentiles, Percentiles]]],
    args: argparse.Namespace,
) -> None:
    p50 = delays[len(delays) // 2]
    p95 = delays[int(len(delays) * 0.95)]
    table = Table(title=f"ETL and analytics, embedded ClickHouse (chdb), medians of {ROUNDS}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("goal", justify="right")
    table.add_row("(1) loader events/s, Kafka -> chdb; ratio to a plain insert", "", "")
    figures: dict[str, object] = {}
    for name, rates in loader.items():
        base = plain[LOADS[name][1]]
        rate = statistics.median(rates)
        ratio = statistics.median(r / p for r, p in zip(rates, base, strict=True))
        goals = (">= 300,000", ">= 0.5") if name == MAIN else ("", "")
        table.add_row(f"    {name}", f"{rate:,.0f}", goals[0])
        table.add_row("      ratio", f"{ratio:.2f}", goals[1])
        figures[f"loader {name}"] = {"events_per_s": rates, "vs_plain": ratio}
    for shape, rates in plain.items():
        table.add_row(f"    plain insert, {shape}, rows/s", f"{statistics.median(rates):,.0f}", "")
        figures[f"plain insert {shape}"] = {"rows_per_s": rates}
    table.add_row(
        "(2) freshness p50 / p95 s at 10,000 events/s", f"{p50:.2f} / {p95:.2f}", "p95 <= 2"
    )
    table.add_row("(3) at 10M events, ms: just loaded / merged", "", "")
    for shape, queries in timings.items():
        table.add_row(f"    {shape}", "", "")
        for name, (fresh, merged) in queries.items():
            table.add_row(f"      {name}", f"{fresh:.1f} / {merged:.1f}", "<= 100")
        for name, ((p50_fresh, p99_fresh), (p50_merged, p99_merged)) in rows[shape].items():
            table.add_row(
                f"      {name}, p50 / p99 of {VIEWERS} viewers",
                f"{p50_fresh:.1f} / {p99_fresh:.1f}; {p50_merged:.1f} / {p99_merged:.1f}",
                "p99 <= 50",
            )
    console.print(table)
    figures |= {
        "freshness_p50_s": p50, "freshness_p95_s": p95, "freshness_events": len(delays),
        "query_ms_at_10m_loaded_merged": timings, "events_for_loader": args.events,
        "viewer_rows_p50_p99_ms_at_10m_loaded_merged": rows,
    }  # fmt: skip
    console.print(f"saved {save('etl', figures)}")


if __name__ == "__main__":
    main()
