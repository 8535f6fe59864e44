"""The `ugc` command itself and what its commands share: settings, logs, Sentry."""

from __future__ import annotations

import typer
from rich.console import Console

from ugc.settings import Settings

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="`ugc`: the single launcher of every ugc process and tool.",
)
console = Console(stderr=True)


def settings_of(**overrides: object) -> Settings:
    given = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**given)  # type: ignore[arg-type]


def observed(settings: Settings, component: str, *, readable: bool = False) -> None:
    """Logs (ECS JSON) and Sentry for this process, first thing at every entry point."""
    from ugc.observability.errors import init_sentry  # noqa: PLC0415
    from ugc.observability.logs import configure_logging  # noqa: PLC0415

    observability = settings.observability
    configure_logging(
        component, level=observability.log_level, file=observability.log_file, readable=readable
    )
    init_sentry(observability, environment=settings.environment, component=component)


def required(value: object, variable: str) -> None:
    if not value:
        raise typer.BadParameter(f"set {variable} (or use `ugc dev`)")
