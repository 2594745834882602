"""The widget and the chat page in a real browser (Debian's Chromium through Playwright) against a
real uvicorn server: keyboard only, axe-core (WCAG 2.1 A/AA) at phone and desktop widths."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.services import free_port, port_open, require

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[2] / "hub" / "web" / "vendor" / "axe-4.14.1.min.js"
SHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def server(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The hub behind uvicorn on a free port, in a thread."""
    port = free_port()
    srv = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not port_open("127.0.0.1", port):
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def page(server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    require(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        yield context.new_page()
        browser.close()


def axe_clean(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """0 axe violations and no sideways scrolling at a phone and a desktop width; screenshots."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
        )
        problems = [
            {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]
        ]
        assert problems == [], f"{name} at {width}px: {json.dumps(problems)}"
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
        page.screenshot(path=str(SHOTS / f"chatbot-{name}-{width}.png"))


def test_widget_by_keyboard_is_accessible(page, server, chat_org) -> None:  # type: ignore[no-untyped-def]
    slug = chat_org.tenant[1]
    page.set_content(
        '<!doctype html><html lang="en"><head><title>Example shop</title></head><body>'
        '<main><h1>Example shop</h1><p><a href="#top">Products</a></p></main>'
        f'<script src="{server}/plugins/chatbot/widget.js?tenant={slug}"></script></body></html>'
    )
    launcher = page.get_by_role("button", name="Chat with support")
    for _ in range(5):  # Tab from the top of the page to the launcher
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Chat with support":
            break
    assert launcher.get_attribute("aria-expanded") == "false"
    page.keyboard.press("Enter")
    assert launcher.get_attribute("aria-expanded") == "true"
    log = page.get_by_role("log")
    assert log.get_attribute("aria-live") == "polite"
    log.get_by_text("virtual assistant").wait_for()
    box = page.get_by_label("Your message")
    assert page.evaluate("document.activeElement.id") == box.get_attribute("id")
    page.keyboard.type("I forgot my password and can't sign in")
    page.keyboard.press("Enter")
    log.get_by_role("link", name="Reset your password").wait_for()
    axe_clean(page, "widget")
    page.set_viewport_size({"width": 390, "height": 800})
    dialog = page.get_by_role("dialog", name="Support chat")
    size = dialog.bounding_box()
    assert size is not None and size["width"] >= 389  # full width on a phone
    page.get_by_role("button", name="Yes, that solved it").click()
    log.get_by_text("glad that helped").wait_for()
    page.keyboard.press("Escape")
    assert dialog.is_hidden()
    assert page.evaluate("document.activeElement.textContent") == "Chat with support"


def test_chat_page_is_accessible_and_escapes_history(page, server, chat_org, client) -> None:  # type: ignore[no-untyped-def]
    slug = chat_org.tenant[1]
    with client.websocket_connect(f"/plugins/chatbot/ws?tenant={slug}") as ws:
        token = ws.receive_json()["token"]
        ws.send_json({"type": "message", "text": "<b>bold?</b> how do I connect Slack"})
        for _ in range(3):
            ws.receive_json()
    page.goto(f"{server}/plugins/chatbot/chat?tenant={slug}&session={token}")
    log = page.get_by_role("log")
    log.get_by_text("<b>bold?</b> how do I connect Slack").wait_for()
    assert page.locator("b", has_text="bold?").count() == 0
    log.get_by_role("link", name="Connect Slack").wait_for()
    axe_clean(page, "page")
