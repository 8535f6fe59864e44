"""make bench-erasure: erasing one viewer with 1,000 events from a 10M-event warehouse.

On 10 million generated events (viewing sessions, as in `make bench-etl`), each
round adds a viewer with 1,000 events over 30 days and 50 films, then erases
them as the loader does (`WarehouseErasure.erase`: rows gone from every read)
and rewrites the masked rows out of the parts (`make_physical`). It also exports
a viewer with 100,000 events (the privacy API's stream) and reads the memory it
took at its peak. It prints:
  - time to done (rows gone from every read; goal p95 <= 10 s) and to physical;
  - what it costs a viewer's Continue Watching read and a 50,000-row insert
    running meanwhile, against the same alone. The embedded ClickHouse runs one
    statement at a time, so meanwhile means "behind the erasure's statements";
    the loader itself pauses its inserts while it erases.
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
    viewings = ViewingQueries(AnalyticsQueries(sink, DB), DB, settings.viewing)
    readers = [f"user-{n}" for n in range(0, 100_000, 997)]
    erasure = WarehouseErasure(sink, DB)

    async def read() -> None:
        await viewings.continue_watching(readers[int(time.monotonic_ns()) % len(readers)], 20, None)

    async def insert() -> None:
        await sink.execute(
            f"INSERT INTO {DB}.events (event_id, type, user_id, film_id, schema_version, "
            "received_at, occurred_at, position_sec, duration_sec) "
            "SELECT generateUUIDv4(number), 'view_progress', "
            "concat('loader-', toString(number % 1000)), generateUUIDv4(number + 1), 1, "
            "now64(6), now64(6), number % 5400, 5400. FROM numbers(50000)"
        )

    done, physical = [], []
    reads_alone, reads_during, inserts_alone, inserts_during = [], [], [], []
    for round_ in range(ROUNDS):
        viewer = f"erased-{uuid.uuid4()}"
        await add_viewer(sink, viewer)
        reads_alone += await timed(read, 20)
        inserts_alone += await timed(insert, 3)
        stop = asyncio.Event()
        during = asyncio.gather(
            timed_until(read, stop, reads_during), timed_until(insert, stop, inserts_during)
        )
        started = time.perf_counter()
        receipt = await erasure.erase(viewer, f"bench-{round_}")
        done.append(time.perf_counter() - started)
        stop.set()
        await during
        assert receipt["events"] == 1000, receipt
        started = time.perf_counter()
        await erasure.make_physical(await erasure.erased())
        physical.append(time.perf_counter() - started)
        console.print(f"round {round_ + 1}: done {done[-1]:.2f} s, physical {physical[-1]:.2f} s")
    report(done, physical, reads_alone, reads_during, inserts_alone, inserts_during)
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
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def report(
    done: list[float],
    physical: list[float],
    reads_alone: list[float],
    reads_during: list[float],
    inserts_alone: list[float],
    inserts_during: list[float],
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
    table.add_row("rewritten out of the parts, p50 s", f"{statistics.median(physical):.2f}", "")
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
    table.add_row(
        "50,000-row insert p50 ms, alone / during",
        f"{statistics.median(inserts_alone) * ms:.0f} / "
        f"{statistics.median(inserts_during) * ms:.0f}",
        "",
    )
    console.print(table)
    figures = {
        "done_s": done, "physical_s": physical, "reads_alone_s": reads_alone,
        "reads_during_s": reads_during, "inserts_alone_s": inserts_alone,
        "inserts_during_s": inserts_during,
    }  # fmt: skip
    console.print(f"saved {save('erasure', figures)}")


if __name__ == "__main__":
    asyncio.run(main())
