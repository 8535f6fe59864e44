"""Alerts reach someone: amtool accepts the deploy's Alertmanager config (and refuses
a broken one), and live, Debian's Alertmanager on that config's routes sends a
firing alert through the relay (`ugc alert-relay`) to a Telegram stand-in; the
relay answers a body that is not Alertmanager's with a 4xx that says why."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.deploy.tools import DEPLOY, refused, run, tool
from tests.servers import started
from ugc.observability.alert_relay import RelaySettings, relay_app

pytestmark = pytest.mark.deploy

CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"
TOKEN = "123456:test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_amtool_passes_the_alertmanager_config(tmp_path: Path) -> None:
    amtool = tool("amtool")
    run(amtool, "check-config", CONFIG)
    broken = tmp_path / "alertmanager.yml"
    broken.write_text(CONFIG.read_text().replace("receiver: team\n", "receiver: nobody\n", 1))
    refused(amtool, "check-config", broken)


@asynccontextmanager
async def serving(app: Starlette, port: int) -> AsyncIterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    async with started(server):
        yield f"http://127.0.0.1:{port}"


def telegram_stand_in(received: list[tuple[str, dict[str, Any]]]) -> Starlette:
    async def send(request: Request) -> Response:
        received.append((request.url.path, await request.json()))
        return JSONResponse({"ok": True, "result": {}})

    return Starlette(routes=[Route("/{bot}/sendMessage", send, methods=["POST"])])


def live_config(tmp_path: Path, relay: str) -> Path:
    """The deploy's config, its routes and receiver as they are, pointed at this
    test's relay and without the half minute a group waits for company."""
    config = yaml.safe_load(CONFIG.read_text())
    config["route"]["group_wait"] = "0s"
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = f"{relay}/alerts"
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    return path


ALERT = {
    "labels": {"alertname": "UgcProcessAbsent", "job": "loader", "severity": "page"},
    "annotations": {"summary": "No loader process is known to Prometheus"},
}
JSON = {"content-type": "application/json"}


async def until(check: Any, what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


@asynccontextmanager
async def alertmanager_on(config: Path, data: Path) -> AsyncIterator[httpx.AsyncClient]:
    """Debian's Alertmanager on `config`, ready; a client on its API."""
    port, cluster = free_port(), free_port()
    process = subprocess.Popen(
        [
            str(tool("prometheus-alertmanager")),
            f"--config.file={config}",
            f"--storage.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--cluster.listen-address=127.0.0.1:{cluster}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:

            async def ready() -> bool:
                try:
                    return (await client.get("/-/ready")).status_code == 200
                except httpx.HTTPError:
                    return False

            await until(ready, "Alertmanager never got ready")
            yield client
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_a_firing_alert_reaches_the_chat_through_alertmanager_and_the_relay(
    tmp_path: Path,
) -> None:
    tool("prometheus-alertmanager")  # or a skip that says how to install it
    received: list[tuple[str, dict[str, Any]]] = []
    async with serving(telegram_stand_in(received), free_port()) as telegram:
        settings = RelaySettings(
            telegram_bot_token=TOKEN,
            telegram_chat_id="-1001",
            telegram_api_url=telegram,
        )
        async with serving(relay_app(settings), free_port()) as relay:
            async with httpx.AsyncClient(base_url=relay) as client:
                wrong = await client.post("/alerts", content=b"{}", headers=JSON)
                assert wrong.status_code == 400
                assert "Alertmanager" in wrong.text
                assert (await client.post("/alerts", content=b"hi")).status_code == 415
            config = live_config(tmp_path, relay)
            async with alertmanager_on(config, tmp_path / "data") as manager:
                posted = await manager.post("/api/v2/alerts", json=[ALERT])
                assert posted.status_code == 200, posted.text

                async def delivered() -> bool:
                    return bool(received)

                await until(delivered, "nothing reached the chat")
    path, sent = received[0]
    assert path == f"/bot{TOKEN}/sendMessage"
    assert sent["chat_id"] == "-1001"
    summary = ALERT["annotations"]["summary"]
    assert f"[FIRING] UgcProcessAbsent (page): {summary}" in sent["text"]
