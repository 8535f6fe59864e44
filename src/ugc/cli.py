"""`ugc`: the single launcher of every ugc process and tool."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ugc.settings import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
console = Console(stderr=True)

PortOption = Annotated[int | None, typer.Option(help="HTTP port [default: 8000]")]


def _settings(**overrides: object) -> Settings:
    given = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**given)  # type: ignore[arg-type]


def _observed(settings: Settings, component: str, *, readable: bool = False) -> None:
    """Logs (ECS JSON) and Sentry for this process, first thing at every entry point."""
    from ugc.observability.errors import init_sentry  # noqa: PLC0415
    from ugc.observability.logs import configure_logging  # noqa: PLC0415

    configure_logging(
        component, level=settings.log_level, file=settings.log_file, readable=readable
    )
    init_sentry(settings, component=component)


@app.command()
def dev(
    port: PortOption = None,
    data_dir: Annotated[Path | None, typer.Option(help="Local data [default: ./.ugc]")] = None,
) -> None:
    """Start the whole platform locally: broker, document store, ClickHouse and the APIs."""
    from ugc.analytics.app import create_analytics_service  # noqa: PLC0415 - per command
    from ugc.content.app import create_content_service  # noqa: PLC0415
    from ugc.devstack.platform import LocalPlatform  # noqa: PLC0415
    from ugc.events.app import create_events_service  # noqa: PLC0415
    from ugc.server import CombinedServices, serve  # noqa: PLC0415

    settings = _settings(port=port, data_dir=data_dir)
    _observed(settings, "ugc-dev", readable=sys.stdout.isatty())
    with LocalPlatform(settings) as resolved:
        services = CombinedServices(
            [
                create_events_service(resolved),
                create_content_service(resolved),
                create_analytics_service(resolved, with_loader=True),
            ]
        )
        base = f"http://{resolved.host}:{resolved.port}"
        where = resolved.clickhouse_url or resolved.data_dir / "clickhouse"
        console.print(f"[bold green]ugc is starting[/] on {base}")
        console.print(f"  events API docs  {base}/docs/events")
        console.print(f"  content API docs {base}/docs/content")
        console.print(f"  analytics docs   {base}/docs/analytics")
        console.print(f"  metrics          {base}/metrics")
        console.print(
            f"  Kafka            {resolved.kafka_bootstrap}  topic {resolved.kafka_topic}"
        )
        console.print(f"  MongoDB          {resolved.mongo_url}")
        console.print(f"  ClickHouse       {where}  (the loader runs in this process)")
        console.print(f"  data             {resolved.data_dir.resolve()}")
        console.print("  a token:         [cyan]ugc token --sub <user-id>[/]   stop: Ctrl-C")
        serve(services, host=resolved.host, port=resolved.port)
    console.print("ugc stopped")


def _serve_alone(component: str, port: int | None, factory: str, needs: tuple[str, str]) -> None:
    """Run one service alone, against the configured servers (production)."""
    from importlib import import_module  # noqa: PLC0415

    from ugc.server import SingleService, serve  # noqa: PLC0415

    settings = _settings(port=port)
    setting, variable = needs
    if setting and getattr(settings, setting) is None:
        raise typer.BadParameter(f"set {variable} (or use `ugc dev`)")
    _observed(settings, f"ugc-{component}")
    module, function = factory.rsplit(".", 1)
    service = getattr(import_module(module), function)(settings)
    serve(SingleService(service), host=settings.host, port=settings.port)


@app.command()
def serve_events(port: PortOption = None) -> None:
    """Run the events API alone, against the configured Kafka (production)."""
    _serve_alone(
        "events", port, "ugc.events.app.create_events_service",
        ("kafka_bootstrap", "UGC_KAFKA_BOOTSTRAP"),
    )  # fmt: skip


@app.command()
def serve_content(port: PortOption = None) -> None:
    """Run the content API alone, against the configured MongoDB (production)."""
    _serve_alone(
        "content", port, "ugc.content.app.create_content_service", ("mongo_url", "UGC_MONGO_URL")
    )


@app.command()
def serve_analytics(port: PortOption = None) -> None:
    """Run the analytics API alone, against the configured ClickHouse (production)."""
    _serve_alone("analytics", port, "ugc.analytics.app.create_analytics_service", ("", ""))


@app.command()
def etl() -> None:
    """Run the loader: the events topic into ClickHouse. SIGTERM stops it cleanly."""
    import asyncio  # noqa: PLC0415

    from prometheus_client import start_http_server  # noqa: PLC0415

    from ugc.events.runner import run_loader  # noqa: PLC0415

    settings = _settings()
    if settings.kafka_bootstrap is None:
        raise typer.BadParameter("set UGC_KAFKA_BOOTSTRAP (or use `ugc dev`)")
    _observed(settings, "ugc-loader")
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.host)
    asyncio.run(run_loader(settings))


@app.command()
def migrate() -> None:
    """Apply the ClickHouse schema migrations (idempotent)."""
    import asyncio  # noqa: PLC0415

    from ugc.events.runner import run_migrations  # noqa: PLC0415

    applied = asyncio.run(run_migrations(_settings()))
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
    from ugc.auth import issue_token, load_keys  # noqa: PLC0415

    settings = _settings(data_dir=data_dir)
    signed = issue_token(
        load_keys(settings),
        subject=sub,
        roles=role or [],
        ttl_s=ttl,
        user_claim=settings.jwt_user_claim,
        roles_claim=settings.jwt_roles_claim,
        private_key=private_key.read_text() if private_key else None,
    )
    typer.echo(signed)


def main() -> None:
    app()
