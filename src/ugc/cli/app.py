"""The `ugc` command itself and what its commands share: settings, logs, Sentry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ugc import __version__
from ugc.settings import Server, Settings

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # `ugc.cli.errors` says what went wrong, in a line
    help="`ugc`: the single launcher of every ugc process and tool. "
    "Add --debug to any command to see a failure's traceback.",
)
console = Console(stderr=True)


def _show_version(asked: bool) -> None:
    if asked:
        print(f"ugc {__version__}")
        raise typer.Exit


@app.callback()
def _ugc(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit", is_eager=True,
                     callback=_show_version),
    ] = False,
) -> None:  # fmt: skip
    """`ugc`: the single launcher of every ugc process and tool."""


def settings_of(**overrides: object) -> Settings:
    """The settings of this command; the data directory, when none is given, is the
    nearest `.ugc` at or above the working folder, as `ugc dev` finds it."""
    from ugc.devstack.running import DATA_DIR_NAME, find_data_dir  # noqa: PLC0415

    given = {key: value for key, value in overrides.items() if value is not None}
    settings = Settings(**given)  # type: ignore[arg-type]
    if "data_dir" not in given and settings.data_dir == Path(DATA_DIR_NAME):
        settings = settings.replace(data_dir=find_data_dir(Path.cwd()))
    return settings


class Refused(Exception):
    """The command cannot go on; the message says why and what to do instead."""


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


def needs_servers(settings: Settings, *servers: Server) -> None:
    """In production, the servers this command uses must be given: it must never
    fall back to a local store in a container."""
    missing = settings.servers_missing(*servers)
    if missing:
        raise typer.BadParameter(f"production needs real servers: set {', '.join(missing)}")
