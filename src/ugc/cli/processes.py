"""The platform's processes: `ugc dev`, each API alone, the loader, migrations."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ugc.cli.app import Refused, app, console, needs_servers, observed, required, settings_of
from ugc.settings import Server, Settings

if TYPE_CHECKING:
    from ugc.web.cors import CorsPolicy
    from ugc.web.service import Service

PortOption = Annotated[int | None, typer.Option(help="HTTP port [default: 8000]", min=1, max=65535)]
ServiceOpener = Callable[[Settings], AbstractAsyncContextManager["Service"]]


@app.command()
def dev(
    port: PortOption = None,
    data_dir: Annotated[Path | None, typer.Option(help="Local data [default: ./.ugc]")] = None,
    ephemeral: Annotated[
        bool,
        typer.Option(
            help="Keep the broker's events in memory: faster, but a restart or a crash "
            "loses what was not loaded yet, and every offset"
        ),
    ] = False,
) -> None:
    """Start the whole platform locally: broker, document store, ClickHouse and the APIs."""
    from ugc.devstack.platform import LocalPlatform  # noqa: PLC0415 - per command
    from ugc.devstack.running import withdraw  # noqa: PLC0415
    from ugc.web.server import Host, serve  # noqa: PLC0415

    settings = settings_of(port=port, data_dir=data_dir)
    observed(settings, "ugc-dev", readable=sys.stdout.isatty())
    with LocalPlatform(settings, ephemeral=ephemeral) as resolved:
        http = resolved.http
        base = f"http://{http.host}:{http.port}"
        console.print(f"[bold green]ugc is starting[/] on {base} ...")
        _banner_when_ready(resolved, base, ephemeral=ephemeral)
        _announce(resolved, base)
        try:
            serve(Host(lambda: _platform(resolved), resolved), http, cors=_cors(resolved))
        finally:
            withdraw(resolved.data_dir)
    console.print("ugc stopped")


def _banner_when_ready(settings: Settings, base: str, *, ephemeral: bool) -> None:
    """Print where everything is once every server answers (`/readyz` says 200),
    not before: a banner over a platform that failed to start would say it is up."""
    import threading  # noqa: PLC0415
    import time  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as answer:  # noqa: S310
                return bool(answer.status == 200)
        except OSError:
            return False

    def wait_then_print() -> None:
        deadline = time.monotonic() + 600
        while not ready():
            if time.monotonic() > deadline:
                return
            time.sleep(0.2)
        _banner(settings, base, ephemeral=ephemeral)

    threading.Thread(target=wait_then_print, name="banner", daemon=True).start()


def _banner(settings: Settings, base: str, *, ephemeral: bool) -> None:
    where = settings.clickhouse.url or settings.data_dir / "clickhouse"
    kept = "in memory only (--ephemeral)" if ephemeral else "kept under the data directory"
    console.print(f"[bold green]ugc is up[/] on {base}")
    console.print(f"  [bold]the demo page    {base}/[/]")
    console.print(f"  events API docs  {base}/docs/events")
    console.print(f"  content API docs {base}/docs/content")
    console.print(f"  analytics docs   {base}/docs/analytics")
    console.print(f"  privacy docs     {base}/docs/privacy")
    console.print(f"  metrics          {base}/metrics")
    console.print(
        f"  Kafka            {settings.kafka.bootstrap}  topic {settings.kafka.topic}, {kept}"
    )
    console.print(f"  MongoDB          {settings.mongo.url}")
    console.print(f"  ClickHouse       {where}  (the loader runs in this process)")
    console.print(f"  data             {settings.data_dir.resolve()}")
    console.print("  a token:         [cyan]ugc token --sub <user-id>[/]   stop: Ctrl-C")


def refuse_a_held_warehouse(settings: Settings, doing: str = "migrate it") -> None:
    """The embedded ClickHouse opens in one process at a time: the `ugc dev` that
    runs on this data directory has it (and migrated it when it started)."""
    from ugc.devstack.running import running_in  # noqa: PLC0415

    running = running_in(settings.data_dir)
    if settings.clickhouse.url is None and running is not None:
        raise Refused(
            f"ugc dev (pid {running.pid}) runs on {settings.data_dir.resolve()} and holds its "
            f"embedded ClickHouse (one process at a time); stop it first to {doing}, or set "
            "UGC_CLICKHOUSE_URL for a ClickHouse server"
        )


def _announce(settings: Settings, base: str) -> None:
    """Leave a note in the data directory of where this platform listens, so the
    tools run from another terminal find it (`ugc.devstack.running`)."""
    import os  # noqa: PLC0415

    from ugc.auth import load_keys  # noqa: PLC0415
    from ugc.devstack.running import Running, announce, key_fingerprint  # noqa: PLC0415

    key = load_keys(settings).verify_key
    running = Running(
        pid=os.getpid(),
        http=base,
        kafka=settings.kafka.bootstrap or "",
        mongo=settings.mongo.url or "",
        key=key_fingerprint(key),
    )
    announce(settings.data_dir, running)


@asynccontextmanager
async def _platform(settings: Settings) -> AsyncIterator[Sequence[Service]]:
    """Every API, and the loader beside them on the one embedded ClickHouse (chdb
    lets one process open its directory)."""
    from ugc.analytics.app import open_analytics_service  # noqa: PLC0415
    from ugc.content.app import open_content_service  # noqa: PLC0415
    from ugc.devstack.page import demo_service  # noqa: PLC0415
    from ugc.events.app import open_events_service  # noqa: PLC0415
    from ugc.loader.process import loader_running  # noqa: PLC0415
    from ugc.privacy.app import open_privacy_service  # noqa: PLC0415
    from ugc.warehouse.connect import open_sink  # noqa: PLC0415

    async with AsyncExitStack() as stack:
        sink = await stack.enter_async_context(open_sink(settings.clickhouse, settings.data_dir))
        services = [
            await stack.enter_async_context(open_events_service(settings)),
            # The analytics migrate the warehouse the content service reads too.
            await stack.enter_async_context(open_analytics_service(settings, sink=sink)),
            await stack.enter_async_context(open_content_service(settings, sink=sink)),
            await stack.enter_async_context(open_privacy_service(settings, sink=sink)),
            demo_service(settings),
        ]
        await stack.enter_async_context(loader_running(settings, sink))
        yield services


def _serve_alone(
    component: str,
    port: int | None,
    opener: ServiceOpener,
    *,
    needs: tuple[str, str] = ("", ""),
    servers: tuple[Server, ...] = (),
) -> None:
    """Run one service alone, against the configured servers (production); `needs`
    is the setting it cannot do without anywhere (`section.field`) and its variable,
    `servers` those it uses, which production must name."""
    from ugc.web.server import Host, serve  # noqa: PLC0415

    settings = settings_of(port=port)
    setting, variable = needs
    if setting:
        section, field = setting.split(".")
        required(getattr(getattr(settings, section), field), variable)
    needs_servers(settings, *servers)
    observed(settings, f"ugc-{component}")

    @asynccontextmanager
    async def one() -> AsyncIterator[Sequence[Service]]:
        async with opener(settings) as service:
            yield [service]

    serve(Host(one, settings), settings.http, cors=_cors(settings))


def _cors(settings: Settings) -> CorsPolicy:
    from ugc.web.cors import CorsPolicy  # noqa: PLC0415

    return CorsPolicy.for_settings(settings)


@app.command()
def serve_events(port: PortOption = None) -> None:
    """Run the events API alone, against the configured Kafka (production)."""
    from ugc.events.app import open_events_service  # noqa: PLC0415

    _serve_alone(
        "events",
        port,
        open_events_service,
        needs=("kafka.bootstrap", "UGC_KAFKA_BOOTSTRAP"),
        servers=("kafka",),
    )


@app.command()
def serve_content(port: PortOption = None) -> None:
    """Run the content API alone, against the configured MongoDB (production)."""
    from ugc.content.app import open_content_service  # noqa: PLC0415

    _serve_alone(
        "content",
        port,
        open_content_service,
        needs=("mongo.url", "UGC_MONGO_URL"),
        servers=("mongo", "clickhouse"),
    )


@app.command()
def serve_analytics(port: PortOption = None) -> None:
    """Run the analytics API alone, against the configured ClickHouse (production)."""
    from ugc.analytics.app import open_analytics_service  # noqa: PLC0415

    _serve_alone("analytics", port, open_analytics_service, servers=("clickhouse",))


@app.command()
def serve_privacy(port: PortOption = None) -> None:
    """Run the privacy API (exports, erasures) alone, against the configured MongoDB,
    ClickHouse and Kafka (production)."""
    from ugc.privacy.app import open_privacy_service  # noqa: PLC0415

    _serve_alone(
        "privacy",
        port,
        open_privacy_service,
        needs=("kafka.bootstrap", "UGC_KAFKA_BOOTSTRAP"),
        servers=("kafka", "mongo", "clickhouse"),
    )


@app.command()
def etl() -> None:
    """Run the loader: the events topic into ClickHouse. SIGTERM stops it cleanly."""
    import asyncio  # noqa: PLC0415

    from prometheus_client import start_http_server  # noqa: PLC0415

    from ugc.loader.process import run_loader  # noqa: PLC0415

    settings = settings_of()
    required(settings.kafka.bootstrap, "UGC_KAFKA_BOOTSTRAP")
    needs_servers(settings, "kafka", "clickhouse")
    observed(settings, "ugc-loader")
    if settings.observability.metrics_port:
        start_http_server(settings.observability.metrics_port, addr=settings.http.host)
    asyncio.run(run_loader(settings))


@app.command()
def migrate() -> None:
    """Apply the ClickHouse schema migrations (idempotent)."""
    import asyncio  # noqa: PLC0415

    from ugc.warehouse.migrations import migrate_configured  # noqa: PLC0415

    settings = settings_of()
    needs_servers(settings, "clickhouse")
    refuse_a_held_warehouse(settings)
    applied = asyncio.run(migrate_configured(settings.clickhouse, settings.data_dir))
    console.print(f"applied: {', '.join(applied) or 'nothing, the schema is current'}")
