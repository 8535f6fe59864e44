"""Tools for people: signed tokens to try the APIs, dead letters to act on."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ugc.cli.app import app, console, required, settings_of
from ugc.settings import Settings

if TYPE_CHECKING:
    from ugc.loader.dead_letter_reader import Letter


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="The user id the token speaks for")],
    role: Annotated[
        list[str] | None,
        typer.Option(help="A role: analyst, moderator or privacy; repeat for more"),
    ] = None,
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds", min=1)] = 3600,
    private_key: Annotated[
        Path | None, typer.Option(help="PEM private key, when RS256 is configured")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where the dev secret lives")] = None,
) -> None:
    """Print a signed access token, for trying the APIs by hand; say on stderr which
    key signed it, and whether the running `ugc dev` will accept it."""
    from ugc.auth import (  # noqa: PLC0415
        DEV_SECRET_FILE,
        ROLES,
        issue_token,
        load_keys,
        subject_rule,
        user_id_of,
    )
    from ugc.devstack.running import key_fingerprint, running_in  # noqa: PLC0415

    settings = settings_of(data_dir=data_dir)
    subjects = settings.jwt.subject_format
    if user_id_of(sub, subjects) is None:
        raise typer.BadParameter(
            f"must be {subject_rule(subjects)} (UGC_JWT_SUBJECT_FORMAT={subjects})",
            param_hint="--sub",
        )
    unknown = sorted(set(role or []) - set(ROLES))
    if unknown:
        raise typer.BadParameter(
            f"{', '.join(unknown)} is no role of ugc's; the roles are {', '.join(ROLES)}",
            param_hint="--role",
        )
    keys = load_keys(settings)
    signed = issue_token(
        keys,
        subject=sub,
        roles=role or [],
        ttl_s=ttl,
        user_claim=settings.jwt.user_claim,
        roles_claim=settings.jwt.roles_claim,
        private_key=private_key.read_text() if private_key else None,
    )
    typer.echo(signed)
    jwt = settings.jwt
    source = (
        "the configured key (UGC_JWT_SECRET / UGC_JWT_PUBLIC_KEY)"
        if jwt.secret is not None or jwt.public_key
        else f"the development secret in {settings.data_dir.resolve() / DEV_SECRET_FILE}"
    )
    console.print(f"signed with {source}")
    running = running_in(settings.data_dir)
    if running is not None and running.key != key_fingerprint(keys.verify_key):
        console.print(
            f"[bold yellow]the ugc dev running on {settings.data_dir.resolve()} "
            f"(pid {running.pid}) checks tokens with another key: it will answer 401 to "
            "this one.[/] Unset UGC_JWT_SECRET here, or give it the same value there."
        )


letters_app = typer.Typer(
    no_args_is_help=True, help="Rows ClickHouse refused: see them, and send them back."
)
app.add_typer(letters_app, name="dead-letters")
ReasonOption = Annotated[str | None, typer.Option(help="Only letters whose reason contains this")]
SinceOption = Annotated[
    str | None,
    typer.Option(help="Only letters written since: 2026-12-01T10:00Z, or an age as 30m, 6h, 2d"),
]


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if value[-1:] in units and value[:-1].isdigit():
        return datetime.now(UTC) - timedelta(seconds=int(value[:-1]) * units[value[-1]])
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a time or an age", param_hint="--since"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _with_running_broker(settings: Settings) -> Settings:
    """Without UGC_KAFKA_BOOTSTRAP, the broker of the `ugc dev` running here."""
    from ugc.devstack.running import running_in  # noqa: PLC0415

    running = running_in(settings.data_dir)
    if settings.kafka.bootstrap or running is None or not running.kafka:
        return settings
    return settings.replace(kafka_bootstrap=running.kafka, kafka_idempotence=False)


def _letters(reason: str | None, since: str | None) -> tuple[Settings, list[Letter]]:
    import asyncio  # noqa: PLC0415

    from ugc.loader.dead_letter_reader import chosen  # noqa: PLC0415
    from ugc.loader.kafka import read_dead_letters  # noqa: PLC0415

    settings = _with_running_broker(settings_of())
    required(settings.kafka.bootstrap, "UGC_KAFKA_BOOTSTRAP")
    everything = asyncio.run(read_dead_letters(settings.kafka, settings.loader.dead_letter_topic))
    return settings, chosen(everything, reason=reason, since=_since(since))


@letters_app.command("list")
def list_letters(reason: ReasonOption = None, since: SinceOption = None) -> None:
    """The dead letters: when, why, where the row came from, its request id."""
    from rich.table import Table  # noqa: PLC0415

    _, letters = _letters(reason, since)
    table = Table(title=f"{len(letters)} dead letters")
    for column in ("written", "reason", "source (topic:partition@offset#line)", "request id"):
        table.add_column(column)
    for letter in letters:
        table.add_row(
            letter.written_at.isoformat(timespec="seconds"),
            letter.reason[:120],
            letter.source,
            letter.request_id or "",
        )
    Console().print(table)


@letters_app.command("replay")
def replay_letters(
    reason: ReasonOption = None,
    since: SinceOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask first")] = False,
) -> None:
    """Send the chosen letters' rows back to the events topic, for the loader to
    insert again once their cause is fixed. Idempotent: the table keeps one row per
    event id, however often a row is replayed."""
    import asyncio  # noqa: PLC0415

    from ugc.loader.kafka import replay  # noqa: PLC0415

    settings, letters = _letters(reason, since)
    if not letters:
        console.print("no dead letters to replay")
        return
    if not yes:
        typer.confirm(f"Send {len(letters)} rows back to {settings.kafka.topic}?", abort=True)
    sent = asyncio.run(replay(settings.kafka, letters))
    console.print(f"replayed {sent} rows to {settings.kafka.topic}")


@letters_app.command("export")
def export_letters(
    reason: ReasonOption = None,
    since: SinceOption = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file [default: standard output]"),
    ] = None,
) -> None:
    """The chosen letters as NDJSON, a line each (when, why, from where, the row as
    it was refused): a copy to keep past the topic's retention, or to work on."""
    _, letters = _letters(reason, since)
    lines = b"".join(letter.exported() for letter in letters)
    if output is None:
        sys.stdout.buffer.write(lines)
        sys.stdout.flush()
        return
    try:
        output.write_bytes(lines)
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot write {output}: {exc.strerror}", param_hint="--output"
        ) from None
    Console(stderr=True).print(f"exported {len(letters)} dead letters to {output}")


@app.command()
def healthcheck(
    url: Annotated[
        str | None,
        typer.Option(help="What to ask [default: http://127.0.0.1:$UGC_PORT/healthz]"),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the answer", min=0.1)] = 3.0,
) -> None:
    """Exit 0 when this container's process answers 2xx: the image's HEALTHCHECK."""
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    if url is None:
        url = f"http://127.0.0.1:{settings_of().http.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - ours
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (OSError, ValueError) as error:
        console.print(f"unhealthy: {url}: {error}")
        raise typer.Exit(1) from None
    if not 200 <= status < 300:
        console.print(f"unhealthy: {url} answered {status}")
        raise typer.Exit(1)
