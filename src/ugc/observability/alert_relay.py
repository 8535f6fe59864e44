"""Alertmanager's webhook in, a Telegram message out (`ugc alert-relay`).

Alertmanager (the compose stack's) sends every firing and resolved group of
alerts here; each becomes one message to the Telegram chat CI already notifies,
and one log line (so ELK holds the alert history too). The bot token stays in the
relay's environment: Alertmanager's own Telegram receiver would need it written
into its configuration file.

The relay listens on the stack's internal network only (nginx does not route to
it). A body is bounded and must be Alertmanager's JSON: anything else is a 4xx
that says why. When Telegram does not take a message, the answer is 502, and
Alertmanager sends the group again.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


class RelaySettings(BaseSettings):
    """The relay's own few settings: it holds no credential of the platform's, only
    the bot's (`UGC_TELEGRAM_BOT_TOKEN`, `UGC_TELEGRAM_CHAT_ID`)."""

    model_config = SettingsConfigDict(env_prefix="UGC_", extra="ignore", frozen=True)
    host: str = "127.0.0.1"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    telegram_bot_token: SecretStr | None = None
    telegram_chat_id: str | None = None
    telegram_api_url: str = "https://api.telegram.org"


log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Alertmanager's groups are a few kilobytes
TELEGRAM_MAX_TEXT = 4096


class _Alert(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: str
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    startsAt: str = ""  # Alertmanager's field names


class Notification(BaseModel):
    """Alertmanager's webhook payload (version 4), the fields a message needs."""

    model_config = ConfigDict(extra="ignore")
    status: str
    alerts: list[_Alert]
    externalURL: str = ""


def message(notification: Notification) -> str:
    """One message per group: each alert's state, name, severity and what it says."""
    lines = []
    for alert in notification.alerts:
        name = alert.labels.get("alertname", "alert")
        severity = alert.labels.get("severity", "")
        summary = alert.annotations.get("summary", "")
        lines.append(f"[{alert.status.upper()}] {name} ({severity}): {summary}".rstrip(": "))
        if description := alert.annotations.get("description"):
            lines.append(f"  {description}")
    if notification.externalURL:
        lines.append(notification.externalURL)
    text = "\n".join(lines)
    return text if len(text) <= TELEGRAM_MAX_TEXT else text[: TELEGRAM_MAX_TEXT - 1] + "…"


def relay_app(settings: RelaySettings, *, client: httpx.AsyncClient | None = None) -> Starlette:
    http = client or httpx.AsyncClient(timeout=10)
    token = settings.telegram_bot_token

    async def alerts(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return PlainTextResponse("Send Alertmanager's webhook JSON.", status_code=415)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return PlainTextResponse("At most 1 MiB of alerts at once.", status_code=413)
        try:
            notification = Notification.model_validate(orjson.loads(body))
        except (orjson.JSONDecodeError, ValidationError) as exc:
            reason = str(exc).splitlines()[0]
            return PlainTextResponse(f"Not Alertmanager's webhook JSON: {reason}", status_code=400)
        text = message(notification)
        log.warning("alert: %s", text, extra={"alerts": len(notification.alerts)})
        if token is None or not settings.telegram_chat_id:
            return JSONResponse({"relayed": False, "logged": True})
        sent = await _send(http, settings, token.get_secret_value(), text)
        if not sent:
            return PlainTextResponse("Telegram did not take the message.", status_code=502)
        return JSONResponse({"relayed": True, "logged": True})

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if client is None:
                await http.aclose()

    return Starlette(
        routes=[Route("/alerts", alerts, methods=["POST"]), Route("/healthz", healthz)],
        lifespan=lifespan,
    )


async def _send(http: httpx.AsyncClient, settings: RelaySettings, token: str, text: str) -> bool:
    url = f"{settings.telegram_api_url.rstrip('/')}/bot{token}/sendMessage"
    payload: dict[str, Any] = {
        "chat_id": settings.telegram_chat_id,
        "text": text,
        "disable_web_page_preview": True,
    }
    try:
        answer = await http.post(url, json=payload)
    except httpx.HTTPError as exc:
        # Only the kind: the exception's text holds the URL, and the URL the token.
        log.warning("Telegram did not answer: %s", type(exc).__name__)
        return False
    if answer.status_code != 200:
        # Never the URL: it holds the token.
        log.error("Telegram refused the alert: %s %s", answer.status_code, answer.text[:200])
        return False
    return True
