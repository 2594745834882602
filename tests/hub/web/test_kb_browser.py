"""The knowledge base in Chromium: an agent writes and publishes an article by keyboard with the
live preview, a reader finds it in the help centre and answers "Was this helpful?", and the
ticket page's suggestion is inserted into a reply; axe-core at 390 and 1280 px on every page."""

from __future__ import annotations

from tests.hub.web.browser import _context, browser, check, sign_in

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_browser


def test_write_publish_read_and_rate_an_article_by_keyboard(browser, live_server, web_org) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["agent"].email)
        page.goto("/admin/kb")
        check(page, "kb-admin-empty")
        page.get_by_role("link", name="New article").focus()
        page.keyboard.press("Enter")
        page.get_by_label("Title").focus()
        page.keyboard.type("Printer offline after an update")
        page.keyboard.press("Tab")
        page.keyboard.type("Open **Settings**, then choose *Printers* and add it again.")
        expect(page.locator("#kb-preview strong")).to_have_text("Settings")
        page.keyboard.press("Tab")
        page.keyboard.type("Hardware")
        page.get_by_label("Published").focus()
        page.keyboard.press("Space")
        check(page, "kb-editor")
        page.get_by_role("button", name="Save", exact=True).focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="saved as published")).to_be_visible()
        page.get_by_role("link", name="History (version 1)").click()
        check(page, "kb-history")

        page.goto("/kb")
        check(page, "help-centre")
        page.get_by_label("Search the help centre").focus()
        page.keyboard.type("printer")
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_contain_text("1 article for")
        page.get_by_role("link", name="Printer offline after an update").click()
        check(page, "help-article")
    finally:
        ctx.close()

    # A reader who is not signed in, on the public help centre.
    anon = _context(browser, live_server)
    page = anon.new_page()
    try:
        page.goto(f"/kb?tenant={web_org['agent'].tenant_slug}")
        page.get_by_role("link", name="Hardware").click()
        check(page, "help-section-public")
        page.get_by_role("link", name="Printer offline after an update").click()
        page.get_by_role("button", name="Yes, it helped").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="You answered yes")).to_be_visible()
        check(page, "help-article-public")
    finally:
        anon.close()


def test_insert_a_suggested_article_into_a_reply(browser, live_server, web_org) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    article = web_org["agent"].post(
        "/api/v1/support/kb/articles/",
        json={
            "title": "Reset your password",
            "body": "Choose **Forgot password** on the sign-in page.",
            "status": "published",
            "category": "Access",
        },
    )
    assert article.status_code == 201, article.text
    ticket = web_org["end_user"].post(
        "/api/v1/support/tickets/",
        json={"subject": "Forgot my password", "description": "I cannot reset my password"},
    )
    assert ticket.status_code == 201, ticket.text
    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["agent"].email)
        page.goto(f"/tickets/{ticket.json()['id']}")
        button = page.get_by_role("button", name="Insert link to “Reset your password”")
        button.focus()
        page.keyboard.press("Enter")
        reply = page.locator("#comment")
        expect(reply).to_be_focused()
        value = reply.input_value()
        assert value.startswith("Reset your password: ")
        assert value.endswith(f"/kb/articles/{article.json()['id']}")
        check(page, "ticket-suggested-articles")
    finally:
        ctx.close()
