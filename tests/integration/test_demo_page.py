"""The page at / of a real `ugc dev`, in real Chromium: it tells the truth (a
removed rating leaves the panel, "Resume from" only when it is so, a refusal
shows the API's reason), a viewer edits and deletes their own review, and it is
usable on a 360 px phone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

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
