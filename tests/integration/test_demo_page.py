"""The page at / of a real `ugc dev`, in real Chromium: it tells the truth (a
removed rating leaves the panel, "Resume from" only when it is so, a refusal
shows the API's reason), a viewer edits and deletes their own review, and it is
usable on a 360 px phone."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.integration.test_browser import CHROMIUM, CHROMIUM_ARGS, playwright_api
from tests.integration.test_dev_tools import Running, dev_here

pytestmark = pytest.mark.integration
__all__ = ["dev_here"]  # the fixture, used by name


@pytest.fixture
async def page_of(dev_here: Running) -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1200, "height": 900})
            await page.goto(f"{dev_here.base}/")
            await page.wait_for_function("() => document.getElementById('viewer').textContent")
            yield page
        finally:
            await browser.close()


async def text_of(page: Any, selector: str) -> str:
    found: str = await page.locator(selector).inner_text()
    return found


async def test_a_removed_rating_leaves_the_panel_at_once(page_of: Any) -> None:
    page = page_of
    await page.select_option("#my-score", "7")
    await page.wait_for_function(
        "() => document.getElementById('rating').textContent.includes('from 1 rating')"
    )
    await page.select_option("#my-score", "")
    await page.wait_for_function(
        "() => document.getElementById('rating').textContent === 'No ratings yet.'"
    )
    assert await page.locator("#my-score").input_value() == ""


async def test_resume_from_is_said_only_when_the_film_is_not_playing(page_of: Any) -> None:
    page = page_of
    await page.evaluate(
        "async () => { const v = document.getElementById('player'); await v.play(); }"
    )
    await page.wait_for_function("() => document.getElementById('player').currentTime > 1.5")
    await page.wait_for_function(
        "() => document.getElementById('resume').textContent.startsWith('Playing')"
    )
    while_playing = await text_of(page, "#resume")
    await page.evaluate("() => document.getElementById('player').pause()")
    await page.wait_for_function(
        "() => document.getElementById('resume').textContent.startsWith('Resume from 0:0')",
        timeout=30_000,
    )

    assert "Resume from" not in while_playing
    assert await page.locator("#resume-button").is_visible()


async def test_a_viewer_edits_and_deletes_their_review_and_sees_why_one_is_refused(
    page_of: Any,
) -> None:
    page = page_of
    await page.fill("#review-text", "short")
    await page.click("#review-send")
    await page.wait_for_function(
        "() => document.getElementById('review-state').classList.contains('problem')"
    )
    refused = await text_of(page, "#review-state")

    await page.fill("#review-text", "A quiet film that stays with you.")
    await page.click("#review-send")
    await page.wait_for_selector("#reviews li.mine")
    await page.click("#reviews li.mine button:text('Edit')")
    await page.fill("#review-text", "Better the second time: it stays with you.")
    await page.click("#review-send")
    await page.wait_for_function(
        "() => document.querySelector('#reviews li.mine').textContent.includes('second time')"
    )
    await page.click("#reviews li.mine button:text('Delete')")
    await page.wait_for_function(
        "() => document.getElementById('reviews').textContent === 'No reviews yet.'"
    )

    assert "text" in refused  # the field and its reason, not a bare status
    assert "10 characters" in refused or "at least 10" in refused


async def test_the_page_is_usable_at_360_px(page_of: Any) -> None:
    page = page_of
    await page.set_viewport_size({"width": 360, "height": 740})
    overflow = await page.evaluate("() => document.documentElement.scrollWidth")
    video = await page.locator("#player").bounding_box()
    rating = await page.locator("#rating").bounding_box()

    assert overflow <= 360
    assert video is not None
    assert rating is not None
    assert video["x"] + video["width"] <= 360
    assert rating["y"] >= video["y"] + video["height"]  # below the player, not over it


async def test_the_rows_follow_the_viewer_and_hide_keeps_the_resume_point(page_of: Any) -> None:
    """Half the clip: in Continue Watching; hidden: out, "Resume from" still said;
    past 90%: a finished viewing in history, and out of the row."""
    page = page_of
    player = "document.getElementById('player')"
    await page.evaluate(f"async () => {{ const v = {player}; await v.play(); }}")
    await page.evaluate(f"() => {{ {player}.currentTime = 180; }}")
    await page.wait_for_function(f"() => !{player}.seeking && {player}.currentTime >= 180")
    await page.evaluate(f"() => {player}.pause()")
    await page.wait_for_selector("#continue li.mine", timeout=30_000)
    entry = await text_of(page, "#continue li.mine")
    await page.click("#continue li.mine button:text('Hide')")
    await page.wait_for_function(
        "() => document.getElementById('continue').textContent === 'Nothing to continue.'"
    )
    await page.wait_for_function(
        "() => document.getElementById('resume').textContent.startsWith('Resume from 3:0')",
        timeout=30_000,
    )
    await page.evaluate(f"() => {{ {player}.currentTime = 340; }}")
    await page.wait_for_function(f"() => !{player}.seeking && {player}.currentTime >= 340")
    await page.wait_for_function(
        "() => document.getElementById('history').textContent.startsWith('The demo clip')",
        timeout=30_000,
    )

    assert entry.startswith("The demo clip: 3:0")
    assert "of 6:00" in entry
    assert await text_of(page, "#continue") == "Nothing to continue."


async def test_reviews_show_who_watched_and_a_viewer_reports_one(
    page_of: Any, dev_here: Running
) -> None:
    """Another viewer, who watched 60% of the clip, reviews it: the page shows the
    mark, helpful first, and this viewer reports it with a reason."""
    film = "00000000-0000-4000-8000-00000000d3e0"  # the page's film
    async with httpx.AsyncClient(base_url=dev_here.base, timeout=10) as api:
        other = str(uuid.uuid4())
        token = (await api.get("/demo/token", params={"viewer": other})).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        event = {"type": "pause", "film_id": film, "position_sec": 216.0, "duration_sec": 360.0}
        assert (await api.post("/api/v1/events", json=event, headers=auth)).status_code == 202
        deadline = time.monotonic() + 30
        while not (await api.get("/api/v1/analytics/users/me/resume", headers=auth)).json():
            assert time.monotonic() < deadline, "the event was not loaded"
            await asyncio.sleep(0.2)
        text = {"text": "Watched most of it: the test pattern never lets up."}
        made = await api.post(f"/api/v1/films/{film}/reviews", json=text, headers=auth)
        assert made.json()["verified"] is True
    page = page_of
    await page.wait_for_selector("#reviews li.theirs", timeout=30_000)
    shown = await text_of(page, "#reviews li.theirs")
    await page.select_option("#reviews li.theirs select", "spoiler")
    await page.click("#reviews li.theirs button:text('Report')")
    await page.wait_for_function(
        "() => document.getElementById('review-state').textContent.startsWith('Reported')"
    )

    assert shown.startswith("✓ Watched most of it")
    assert "watched 60%" in shown
