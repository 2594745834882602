"""Helpers of the console's browser tests (Debian's Chromium through Playwright): the browser,
a context on the live server, the axe-core and layout check of a page, and a keyboard sign-in."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hub.web.conftest import PASSWORD
from tests.services import require

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
AXE_SOURCE = AXE.read_text(encoding="utf-8") + "\n;true"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
WIDTHS = (390, 1280)
NARROWEST = 360  # no sideways scrolling down to this width
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TIMEOUT = 15_000  # ms for anything that arrives live


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    require(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def _context(browser, base: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT)
    return context


def check(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """axe-core at both widths (0 violations), a full-page screenshot at each, and no sideways
    scrolling from 360 px up."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol, which the pages' strict CSP (scripts
            # from the hub only) does not block, unlike an injected <script> tag would be.
            page.evaluate(AXE_SOURCE)
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
        )
        problems = [
            {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]
        ]
        assert problems == [], f"{name} at {width}px:\n{json.dumps(problems, indent=1)}"
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width + 1, f"{name} scrolls sideways at {width}px ({scroll}px wide)"
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": NARROWEST, "height": 800})
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= NARROWEST + 1, f"{name} scrolls sideways at {NARROWEST}px ({scroll}px wide)"
    page.set_viewport_size(original)


def sign_in(page, email: str, tenant: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """Sign in with the keyboard only: type, Tab, type, Enter."""
    page.goto("/login")
    page.get_by_label("Email").focus()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    if tenant:
        page.get_by_label(re.compile(tenant)).check()
        page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("text=Sign out")
