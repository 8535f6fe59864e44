"""The browser tracker in real headless Chromium, on a page of another origin than
the API: its events reach ClickHouse, beacons and keepalive fetches land when the
page goes away, a broker that stops answering for a while loses nothing, and a
reload resends what was left unsent, once.

Needs Debian's chromium (`.ci/run` installs it); skipped, saying so, without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import shutil
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import read_events, real_server
from ugc.analytics.app import open_analytics_service
from ugc.devstack.processes import free_port
from ugc.devstack.servers import LocalBroker
from ugc.events.app import open_events_service
from ugc.loader.process import loader_running
from ugc.settings import Settings
from ugc.warehouse.embedded import ChdbSink
from ugc.web.service import Service

pytestmark = pytest.mark.integration

CHROMIUM = next(
    filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None
)
if CHROMIUM is None:
    pytest.skip(
        "browser tests skipped: no Chromium on this machine (apt-get install chromium; "
        ".ci/run installs it)",
        allow_module_level=True,
    )
playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is a dev extra")

# How the project's probe starts Chromium as root on a closed network.
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip
FILM = "00000000-0000-4000-8000-00000000b0b0"
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head>
<body><video id="player" src="/clip.webm" muted playsinline preload="auto"></video>
<script src="{api}/sdk/tracker.js"></script></body></html>
"""


@dataclass
class Platform:
    api: str  # http://127.0.0.1:<port>
    page: str  # http://localhost:<port>/ : another origin
    settings: Settings
    broker: LocalBroker

    async def events(self, expected: int) -> list[dict[str, Any]]:
        found = await read_events(self.broker.bootstrap, self.settings.kafka.topic, expected)
        return [value for _, value in found]


@contextlib.contextmanager
def page_server(root: Path) -> Iterator[int]:
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[assignment,method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()


@contextlib.asynccontextmanager
async def api_server(settings: Settings, sink: ChdbSink) -> AsyncIterator[str]:
    @contextlib.asynccontextmanager
    async def services() -> AsyncIterator[Sequence[Service]]:
        async with (
            open_events_service(settings) as events,
            open_analytics_service(settings, sink=sink) as analytics,
            loader_running(settings, sink),
        ):
            yield [events, analytics]

    async with real_server(services, settings) as base:
        yield base


@pytest.fixture
async def platform(
    pipeline_settings: Settings, warehouse: ChdbSink, tmp_path: Path
) -> AsyncIterator[Platform]:
    """Its own broker (the 503 test freezes it), the events and analytics APIs with
    the loader on one port, and a page server on another origin."""
    broker = LocalBroker(free_port(), tmp_path / "broker")
    broker.start()
    api_port = free_port()
    clip = resources.files("ugc.devstack") / "demo" / "clip.webm"
    (tmp_path / "clip.webm").write_bytes(clip.read_bytes())
    try:
        with page_server(tmp_path) as page_port:
            settings = pipeline_settings.replace(
                port=api_port,
                kafka_bootstrap=broker.bootstrap,
                kafka_send_timeout_s=1.0,
                retry_after_s=1,
                cors_origins=[f"http://localhost:{page_port}"],
            )
            api = f"http://127.0.0.1:{api_port}"
            (tmp_path / "index.html").write_text(PAGE.format(api=api))
            async with api_server(settings, warehouse):
                yield Platform(api, f"http://localhost:{page_port}/", settings, broker)
    finally:
        broker.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def open_page(browser: Any, platform: Platform, token: str, **options: Any) -> Any:
    """A page of the other origin with a tracker (`window.t`) for the token's user."""
    context = await browser.new_context()
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    await page.goto(platform.page)
    await page.wait_for_function("() => !!window.ugc")
    await page.evaluate(
        """([api, token, options]) => {
            window.refused = [];
            window.t = ugc.tracker({ endpoint: api, token: () => token,
                onError: (e) => window.refused.push(e.status), ...options });
        }""",
        [platform.api, token, {"flushIntervalMs": 600_000, "backoffMs": 200, **options}],
    )
    return page


async def track_progress(page: Any, positions: list[int]) -> list[str]:
    """Progress beats tracked on the page; their event ids."""
    ids: list[str] = await page.evaluate(
        """([film, positions]) => positions.map(
            (p) => t.track("view_progress", { film_id: film, position_sec: p }))""",
        [FILM, positions],
    )
    return ids


async def intake_answers(platform: Platform) -> dict[str, float]:
    """How many times the intake answered 202 and 204, from the API's own metrics."""
    async with httpx.AsyncClient(base_url=platform.api) as client:
        text = (await client.get("/metrics")).text
    counts = dict.fromkeys(("202", "204"), 0.0)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            route, status = labels.get("route"), labels.get("status", "")
            if sample.name == "ugc_http_requests_total" and route == "/api/v1/events":
                counts[status] = counts.get(status, 0.0) + sample.value
    return counts


async def eventually(check: Callable[[], Any], timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = await check()
        if found:
            return found
        assert time.monotonic() < deadline, "not within the deadline"
        await asyncio.sleep(0.2)


async def test_the_trackers_events_reach_clickhouse_and_the_resume_point(
    platform: Platform, browser: Any, token_for: Callable[..., str]
) -> None:
    token = token_for("pia")
    page = await open_page(browser, platform, token, progressIntervalMs=500)
    refused = await page.evaluate(
        "(film) => { try { t.attach(player, { filmId: film, creditsSec: -1 }); } "
        "catch (e) { return e.message; } }",
        FILM,
    )
    assert "creditsSec" in refused
    await page.evaluate(
        "(film) => { window.detach = t.attach(player, { filmId: film, creditsSec: 20 }); }", FILM
    )
    await page.evaluate("() => player.play()")
    await page.wait_for_function("() => player.currentTime > 1.5")
    await page.evaluate("() => { player.currentTime = 12; }")
    await page.wait_for_function("() => !player.seeking && player.currentTime >= 12")
    await page.wait_for_timeout(700)
    position = await page.evaluate("() => { player.pause(); return player.currentTime; }")
    await page.evaluate("() => t.flush()")

    async def resumed() -> Any:
        async with httpx.AsyncClient(base_url=platform.api) as client:
            answer = await client.get(
                "/api/v1/analytics/users/me/resume", headers={"Authorization": f"Bearer {token}"}
            )
        points = answer.json()
        return points if points and points[0]["position_sec"] >= 12 else None

    (point,) = await eventually(resumed)
    assert point["film_id"] == FILM
    assert point["position_sec"] == pytest.approx(position, abs=0.5)
    events = await platform.events(4)
    assert {"play", "seek", "view_progress", "pause"} <= {e["type"] for e in events}
    assert {e["credits_sec"] for e in events} == {20}  # attach's creditsSec, on every one
    assert page.errors == []


@pytest.mark.parametrize("path", ["beacon", "keepalive fetch"])
async def test_what_is_unsent_when_the_page_goes_away_still_lands(
    platform: Platform, browser: Any, token_for: Callable[..., str], path: str
) -> None:
    page = await open_page(browser, platform, token_for("quin"))
    if path == "keepalive fetch":  # where a beacon cannot go
        await page.evaluate("() => { navigator.sendBeacon = () => false; }")
    before = await intake_answers(platform)
    ids = await track_progress(page, [1, 2, 3])
    await page.goto("about:blank")  # pagehide: the tracker hands the events over

    landed = await platform.events(3)
    assert sorted(e["event_id"] for e in landed) == sorted(ids)
    after = await intake_answers(platform)
    # A beacon is text/plain (204, the token in its body, which went nowhere else),
    # a keepalive fetch JSON (202).
    status = "204" if path == "beacon" else "202"
    assert after[status] - before[status] == 1
    assert all("access_token" not in e for e in landed)


async def test_a_broker_not_answering_for_a_while_loses_nothing(
    platform: Platform, browser: Any, token_for: Callable[..., str]
) -> None:
    page = await open_page(browser, platform, token_for("rosa"))
    platform.broker.process.freeze()
    try:
        ids = await track_progress(page, [5, 6, 7, 8])
        await page.evaluate("() => t.flush()")  # 503: kept, retried after Retry-After
        await page.wait_for_function("() => t.stats().retries >= 1", timeout=15_000)
    finally:
        platform.broker.process.thaw()
    await page.wait_for_function("() => t.stats().queued === 0", timeout=30_000)

    landed = await platform.events(4)
    assert set(ids) <= {e["event_id"] for e in landed}
    assert await page.evaluate("() => window.refused") == []


async def test_a_reload_resends_what_was_left_unsent_once(
    platform: Platform, browser: Any, token_for: Callable[..., str]
) -> None:
    page = await open_page(browser, platform, token_for("sami"))
    await page.route("**/api/v1/events", lambda route: route.abort())  # the network is down
    ids = await track_progress(page, [9, 10])
    await page.evaluate("() => t.flush()")
    await page.wait_for_function("() => t.stats().retries >= 1")
    kept = await page.evaluate("() => Object.keys(localStorage).filter((k) => k.startsWith('ugc'))")
    assert kept, "the unsent events were not kept"
    await page.unroute("**/api/v1/events")

    await page.reload()
    await page.wait_for_function("() => !!window.ugc")
    await page.evaluate(
        "([api, token]) => { window.t = ugc.tracker({ endpoint: api, token: () => token }); }",
        [platform.api, token_for("sami")],
    )
    await page.wait_for_function("() => t.stats().queued === 0", timeout=30_000)

    landed = await platform.events(2)
    assert sorted(e["event_id"] for e in landed) == sorted(ids)  # each once, with its first id
    assert all(uuid.UUID(e["event_id"]) for e in landed)


async def test_the_api_docs_list_their_operations_with_every_other_host_blocked(
    platform: Platform, browser: Any
) -> None:
    """A closed network: nothing but the platform itself answers the browser."""
    page = await browser.new_page()
    asked_elsewhere: list[str] = []

    async def only_the_platform(route: Any) -> None:
        if route.request.url.startswith(platform.api):
            await route.continue_()
        else:
            asked_elsewhere.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_the_platform)
    await page.goto(f"{platform.api}/docs/events")
    await page.wait_for_selector(".opblock", timeout=30_000)
    operations = await page.locator(".opblock-summary-path").all_inner_texts()
    await page.close()

    assert asked_elsewhere == []
    assert any("/api/v1/events" in text for text in operations)
