"""`ugc alert-relay`: Alertmanager's webhook to the Telegram chat."""

from __future__ import annotations

from typing import Annotated

import typer

from ugc.cli.app import app


@app.command()
def alert_relay(
    port: Annotated[int, typer.Option(help="HTTP port", min=1, max=65535)] = 9095,
) -> None:
    """Relay Alertmanager's notifications to Telegram (UGC_TELEGRAM_BOT_TOKEN,
    UGC_TELEGRAM_CHAT_ID), and log each; without a token, only log them. It needs
    none of the platform's settings or credentials."""
    import uvicorn  # noqa: PLC0415

    from ugc.observability.alert_relay import RelaySettings, relay_app  # noqa: PLC0415
    from ugc.observability.logs import configure_logging  # noqa: PLC0415

    settings = RelaySettings()
    configure_logging("ugc-alert-relay", level=settings.log_level)
    uvicorn.run(
        relay_app(settings), host=settings.host, port=port, log_config=None, access_log=False
    )
