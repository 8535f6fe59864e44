"""make bench-erasure: erasing one viewer with 1,000 events from a 10M-event warehouse.

On 10 million generated events (viewing sessions, as in `make bench-etl`), once
the bulk load's merges have settled, each
round adds a viewer with 1,000 events over 30 days and 50 films, then erases
them as the loader does (`WarehouseErasure.erase`: rows gone from every read)
and, after the rounds, rewrites the masked rows of them all out of the parts at
once (`make_physical`), as the loader batches them within a day. It also exports
a viewer with 100,000 events (the privacy API's stream) and reads the memory it
took at its peak. It prints:
  - time to done (rows gone from every read; goal p95 <= 10 s) and to physical;
  - what it costs a viewer's Continue Watching read running meanwhile, against
    the same alone. The embedded ClickHouse runs one statement at a time (and
    mutations on a background pool of 2 threads), so meanwhile means "behind
    the erasure's statements";
  - the cost to loading: the loader erases between its own inserts, so loading
    pauses for the time to done (its inserts are not measured apart).
"""

from __future__ import annotations

import asyncio
import statistics
import time
import tracemalloc
import uuid
from collections.abc import Awaitable, Callable

from rich.console import Console
from rich.table import Table

from bench.etl import SHAPES
from bench.harness import save, scratch_dir
from ugc.analytics.queries import AnalyticsQueries
from ugc.analytics.viewings import ViewingQueries
from ugc.content.store import open_stores
from ugc.content.store.mongo import connect
from ugc.content.store.personal import MongoPersonalData
from ugc.devstack.processes import free_port
from ugc.devstack.servers import LocalDocumentStore
from ugc.privacy.export import Export
from ugc.settings import Settings
from ugc.warehouse.embedded import ChdbSink
from ugc.warehouse.erasure import WarehouseErasure
from ugc.warehouse.migrations import migrate

console = Console()
ROUNDS = 7
DB = "bench_erasure"


async def main() -> None:
    with scratch_dir("ugc-bench-erasure-") as workdir:
        sink = ChdbSink(workdir / "clickhouse")
        store = LocalDocumentStore(free_port(), workdir / "mongo", workdir / "logs")
        store.start()
        try:
            export = await measure(sink)
            await measure_export(sink, store.url, export)
        finally:
            store.stop()
            await sink.close()


async def measure_export(sink: ChdbSink, mongo_url: str, figures: dict[str, float]) -> None:
    """A viewer with 100,000 events, exported whole: time, size and peak memory."""
    viewer = "exported-viewer"
    await sink.query(
        f"INSERT INTO {DB}.events (event_id, type, user_id, film_id, schema_version, "
        "received_at, occurred_at, position_sec, duration_sec) "
        "SELECT generateUUIDv4(number), 'view_progress', {viewer:String}, "
        "toUUID(concat('00000000-0000-4000-8000-', leftPad(toString(number % 500), 12, '0'))), "
        "1, now64(6) - toIntervalSecond(number * 25), now64(6) - toIntervalSecond(number * 25), "
        "toFloat64(number % 5400), 5400. FROM numbers(100000)",
        {"viewer": viewer},
    )
    client = connect(mongo_url, timeout_s=10)
    try:
        personal = MongoPersonalData(client, client["bench"], open_stores(client, "bench"))
        exporting = Export(personal, sink, DB)
        # Timed, then again with tracemalloc (which slows Python down) for the peak.
        for traced in (False, True):
            if traced:
                tracemalloc.start()
            started = time.perf_counter()
            lines = size = 0
            async for line in exporting.lines(viewer):
                lines += 1
                size += len(line)
            assert lines == 100_001, lines  # the events and the summary
            if traced:
                figures["export_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
            else:
                figures["export_s"] = time.perf_counter() - started
        figures["export_mib"] = size / 2**20
    finally:
        await client.close()
    console.print(
        f"export of 100,000 events: {figures['export_s']:.1f} s, "
        f"{figures['export_mib']:.1f} MiB of NDJSON, peak Python memory "
        f"{figures['export_peak_mib']:.1f} MiB"
    )
    console.print(f"saved {save('erasure-export', figures)}")


async def measure(sink: ChdbSink) -> dict[str, float]:
    settings = Settings(_env_file=None, clickhouse_database=DB)  # type: ignore[call-arg]
    await migrate(sink, settings.clickhouse)
    started = time.perf_counter()
    await sink.execute(
        f"INSERT INTO {DB}.events (event_id, type, user_id, film_id, schema_version, "
        f"received_at, occurred_at, position_sec, duration_sec) {SHAPES['sessions']}"
    )
    console.print(f"generated 10,000,000 events in {time.perf_counter() - started:.0f} s")
    # The bulk load's own merges first (a steady table merges too, but not 10M rows
    # inserted a second ago): the rounds measure erasures, not the load's aftermath.
    started = time.perf_counter()
    while (await sink.query("SELECT count() AS n FROM system.merges"))[0]["n"]:
        if time.perf_counter() - started > 300:
            break
        await asyncio.sleep(0.5)
    console.print(f"the load's merges settled in {time.perf_counter() - started:.0f} s")
    viewings = ViewingQueries(AnalyticsQueries(sink, DB), DB, settings.viewing)
    readers = [f"user-{n}" for n in range(0, 100_000, 997)]
    erasure = WarehouseErasure(sink, DB)

    async def read() -> None:
        await viewings.continue_watching(readers[int(time.monotonic_ns()) % len(readers)], 20, None)

    done, physical = [], []
    reads_alone: list[float] = []
    reads_during: list[float] = []
    for round_ in range(ROUNDS):
        viewer = f"erased-{uuid.uuid4()}"
        await add_viewer(sink, viewer)
        reads_alone += await timed(read, 20)
        stop = asyncio.Event()
        during = asyncio.ensure_future(timed_until(read, stop, reads_during))
        started = time.perf_counter()
        receipt = await erasure.erase(viewer, f"bench-{round_}")
        done.append(time.perf_counter() - started)
        stop.set()
        await during
        assert receipt["events"] == 1000, receipt
        console.print(f"round {round_ + 1}: done {done[-1]:.2f} s")
    # As the loader does: the masked rows of every erasure waiting, rewritten at once.
    started = time.perf_counter()
    assert await erasure.make_physical(await erasure.erased()) == ROUNDS
    physical.append(time.perf_counter() - started)
    console.print(f"rewritten out of the parts for {ROUNDS} erasures in {physical[0]:.1f} s")
    report(done, physical, reads_alone, reads_during)
    return {}


async def add_viewer(sink: ChdbSink, viewer: str) -> None:
    await sink.query(
        f"INSERT INTO {DB}.events (event_id, type, user_id, film_id, schema_version, "
        "received_at, occurred_at, position_sec, duration_sec) "
        "SELECT generateUUIDv4(number), 'view_progress', {viewer:String}, "
        "toUUID(concat('00000000-0000-4000-8000-', leftPad(toString(number % 50), 12, '0'))), "
        "1, now64(6) - toIntervalSecond(number * 2592), "
        "now64(6) - toIntervalSecond(number * 2592), "
        "toFloat64(number * 5), 5400. FROM numbers(1000)",
        {"viewer": viewer},
    )


async def timed(run: Callable[[], Awaitable[None]], times: int) -> list[float]:
    found = []
    for _ in range(times):
        started = time.perf_counter()
        await run()
        found.append(time.perf_counter() - started)
    return found


async def timed_until(
    run: Callable[[], Awaitable[None]], stop: asyncio.Event, into: list[float]
) -> None:
    while not stop.is_set():
        into += await timed(run, 1)


def p(values: list[float], q: int) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def report(
    done: list[float],
    physical: list[float],
    reads_alone: list[float],
    reads_during: list[float],
) -> None:
    table = Table(title=f"erasing a viewer of 1,000 events from 10M, {ROUNDS} rounds")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("goal", justify="right")
    table.add_row(
        "time to done (gone from reads), p50 / p95 s",
        f"{statistics.median(done):.2f} / {p(done, 95):.2f}",
        "p95 <= 10",
    )
    table.add_row(
        f"rewritten out of the parts, the {ROUNDS} erasures at once, s", f"{physical[0]:.2f}", ""
    )
    ms = 1000
    table.add_row(
        "Continue Watching read p50 / p99 ms, alone",
        f"{statistics.median(reads_alone) * ms:.1f} / {p(reads_alone, 99) * ms:.1f}",
        "",
    )
    table.add_row(
        "  the same during an erasure",
        f"{statistics.median(reads_during) * ms:.1f} / {p(reads_during, 99) * ms:.1f}",
        "",
    )
    table.add_row("loading paused (the loader erases between inserts)", "the time to done", "")
    console.print(table)
    figures = {
        "done_s": done, "physical_s": physical, "reads_alone_s": reads_alone,
        "reads_during_s": reads_during,
    }  # fmt: skip
    console.print(f"saved {save('erasure', figures)}")


if __name__ == "__main__":
    asyncio.run(main())
