"""`ugc`: the single launcher of every ugc process and tool."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ugc.settings import Settings

if TYPE_CHECKING:
    from ugc.web.cors import CorsPolicy
    from ugc.web.service import Service

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
console = Console(stderr=True)

PortOption = Annotated[int | None, typer.Option(help="HTTP port [default: 8000]")]
ServiceOpener = Callable[[Settings], AbstractAsyncContextManager["Service"]]


def _settings(**overrides: object) -> Settings:
    given = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**given)  # type: ignore[arg-type]


def _observed(settings: Settings, component: str, *, readable: bool = False) -> None:
    """Logs (ECS JSON) and Sentry for this process, first thing at every entry point."""
    from ugc.observability.errors import init_sentry  # noqa: PLC0415
    from ugc.observability.logs import configure_logging  # noqa: PLC0415

    observability = settings.observability
    configure_logging(
        component, level=observability.log_level, file=observability.log_file, readable=readable
    )
    init_sentry(observability, environment=settings.environment, component=component)


@app.command()
def dev(
    port: PortOption = None,
    data_dir: Annotated[Path | None, typer.Option(help="Local data [default: ./.ugc]")] = None,
) -> None:
    """Start the whole platform locally: broker, document store, ClickHouse and the APIs."""
    from ugc.devstack.platform import LocalPlatform  # noqa: PLC0415 - per command
    from ugc.web.server import Host, serve  # noqa: PLC0415

    settings = _settings(port=port, data_dir=data_dir)
    _observed(settings, "ugc-dev", readable=sys.stdout.isatty())
    with LocalPlatform(settings) as resolved:
        http = resolved.http
        base = f"http://{http.host}:{http.port}"
        where = resolved.clickhouse.url or resolved.data_dir / "clickhouse"
        console.print(f"[bold green]ugc is starting[/] on {base}")
        console.print(f"  [bold]the demo page    {base}/[/]")
        console.print(f"  events API docs  {base}/docs/events")
        console.print(f"  content API docs {base}/docs/content")
        console.print(f"  analytics docs   {base}/docs/analytics")
        console.print(f"  metrics          {base}/metrics")
        console.print(
            f"  Kafka            {resolved.kafka.bootstrap}  topic {resolved.kafka.topic}"
        )
        console.print(f"  MongoDB          {resolved.mongo.url}")
        console.print(f"  ClickHouse       {where}  (the loader runs in this process)")
        console.print(f"  data             {resolved.data_dir.resolve()}")
        console.print("  a token:         [cyan]ugc token --sub <user-id>[/]   stop: Ctrl-C")
        serve(Host(lambda: _platform(resolved), resolved), http, cors=_cors(resolved))
    console.print("ugc stopped")


@asynccontextmanager
async def _platform(settings: Settings) -> AsyncIterator[Sequence[Service]]:
    """Every API, and the loader beside them on the one embedded ClickHouse (chdb
    lets one process open its directory)."""
    from ugc.analytics.app import open_analytics_service  # noqa: PLC0415
    from ugc.content.app import open_content_service  # noqa: PLC0415
    from ugc.devstack.page import demo_service  # noqa: PLC0415
    from ugc.events.app import open_events_service  # noqa: PLC0415
    from ugc.loader.process import loader_running  # noqa: PLC0415
    from ugc.warehouse.connect import open_sink  # noqa: PLC0415

    async with AsyncExitStack() as stack:
        sink = await stack.enter_async_context(open_sink(settings.clickhouse, settings.data_dir))
        services = [
            await stack.enter_async_context(open_events_service(settings)),
            await stack.enter_async_context(open_content_service(settings)),
            await stack.enter_async_context(open_analytics_service(settings, sink=sink)),
            demo_service(settings),
        ]
        await stack.enter_async_context(loader_running(settings, sink))
        yield services


def _serve_alone(
    component: str, port: int | None, opener: ServiceOpener, *, needs: tuple[str, str] = ("", "")
) -> None:
    """Run one service alone, against the configured servers (production); `needs`
    is the setting it cannot do without (`section.field`) and its variable."""
    from ugc.web.server import Host, serve  # noqa: PLC0415

    settings = _settings(port=port)
    setting, variable = needs
    if setting:
        section, field = setting.split(".")
        _required(getattr(getattr(settings, section), field), variable)
    _observed(settings, f"ugc-{component}")

    @asynccontextmanager
    async def one() -> AsyncIterator[Sequence[Service]]:
        async with opener(settings) as service:
            yield [service]

    serve(Host(one, settings), settings.http, cors=_cors(settings))


def _cors(settings: Settings) -> CorsPolicy:
    from ugc.web.cors import CorsPolicy  # noqa: PLC0415

    return CorsPolicy.for_settings(settings)


def _required(value: object, variable: str) -> None:
    if not value:
        raise typer.BadParameter(f"set {variable} (or use `ugc dev`)")


@app.command()
def serve_events(port: PortOption = None) -> None:
    """Run the events API alone, against the configured Kafka (production)."""
    from ugc.events.app import open_events_service  # noqa: PLC0415

    _serve_alone(
        "events", port, open_events_service, needs=("kafka.bootstrap", "UGC_KAFKA_BOOTSTRAP")
    )


@app.command()
def serve_content(port: PortOption = None) -> None:
    """Run the content API alone, against the configured MongoDB (production)."""
    from ugc.content.app import open_content_service  # noqa: PLC0415

    _serve_alone("content", port, open_content_service, needs=("mongo.url", "UGC_MONGO_URL"))


@app.command()
def serve_analytics(port: PortOption = None) -> None:
    """Run the analytics API alone, against the configured ClickHouse (production)."""
    from ugc.analytics.app import open_analytics_service  # noqa: PLC0415

    _serve_alone("analytics", port, open_analytics_service)


@app.command()
def etl() -> None:
    """Run the loader: the events topic into ClickHouse. SIGTERM stops it cleanly."""
    import asyncio  # noqa: PLC0415

    from prometheus_client import start_http_server  # noqa: PLC0415

    from ugc.loader.process import run_loader  # noqa: PLC0415

    settings = _settings()
    _required(settings.kafka.bootstrap, "UGC_KAFKA_BOOTSTRAP")
    _observed(settings, "ugc-loader")
    if settings.observability.metrics_port:
        start_http_server(settings.observability.metrics_port, addr=settings.http.host)
    asyncio.run(run_loader(settings))


@app.command()
def migrate() -> None:
    """Apply the ClickHouse schema migrations (idempotent)."""
    import asyncio  # noqa: PLC0415

    from ugc.warehouse.migrations import migrate_configured  # noqa: PLC0415

    settings = _settings()
    applied = asyncio.run(migrate_configured(settings.clickhouse, settings.data_dir))
    console.print(f"applied: {', '.join(applied) or 'nothing, the schema is current'}")


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="The user id the token speaks for")],
    role: Annotated[list[str] | None, typer.Option(help="A role; repeat for more")] = None,
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds")] = 3600,
    private_key: Annotated[
        Path | None, typer.Option(help="PEM private key, when RS256 is configured")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where the dev secret lives")] = None,
) -> None:
    """Print a signed access token, for trying the APIs by hand."""
    from ugc.auth import issue_token, load_keys, subject_rule, user_id_of  # noqa: PLC0415

    settings = _settings(data_dir=data_dir)
    subjects = settings.jwt.subject_format
    if user_id_of(sub, subjects) is None:
        raise typer.BadParameter(
            f"must be {subject_rule(subjects)} (UGC_JWT_SUBJECT_FORMAT={subjects})",
            param_hint="--sub",
        )
    signed = issue_token(
        load_keys(settings),
        subject=sub,
        roles=role or [],
        ttl_s=ttl,
        user_claim=settings.jwt.user_claim,
        roles_claim=settings.jwt.roles_claim,
        private_key=private_key.read_text() if private_key else None,
    )
    typer.echo(signed)


def main() -> None:
    app()
