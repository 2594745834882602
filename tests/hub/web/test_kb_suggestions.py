"""Suggested articles on the new-ticket page, and "this solved my problem" opening no ticket."""

from __future__ import annotations

from sqlalchemy import func, select

from core.models import Ticket
from tests.hub.web.conftest import sign_in

ARTICLE = {
    "title": "Reset your password",
    "status": "published",
    "visibility": "public",
    "category": "Access",
    "body": "Open the sign-in page, choose **Forgot password** and follow the emailed link.",
}


def test_suggestions_while_typing_and_deflection(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    created = web_org["agent"].post("/api/v1/support/kb/articles/", json=ARTICLE)
    assert created.status_code == 201, created.text
    web = sign_in(app, web_org["end_user"].email)
    form = web.page("/tickets/new")
    assert 'hx-get="/tickets/new/suggestions"' in form
    fragment = web.page(
        "/tickets/new/suggestions?subject=I+forgot+my+password&description=cannot+sign+in"
    )
    assert "Reset your password" in fragment and "This solved my problem" in fragment
    assert web.page("/tickets/new/suggestions?subject=hi").strip() == ""
    article_id = created.json()["id"]
    solved = web.post(
        "/tickets/new/solved", {"article_id": article_id, "query": "I forgot my password"}
    )
    assert solved.status_code == 303 and solved.headers["location"] == "/tickets"
    with hub.session() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0
    report = web_org["agent"].get("/api/v1/support/kb/deflections/").json()
    assert report["total"] == 1
    forged = web.client.post(
        "/tickets/new/solved", data={"article_id": article_id}, follow_redirects=False
    )
    assert forged.status_code == 403


def test_chat_is_offered_where_the_chatbot_is_on(app, web_org) -> None:  # type: ignore[no-untyped-def]
    web = sign_in(app, web_org["end_user"].email)
    assert "Ask our assistant" not in web.page("/tickets/new")
    assert web_org["admin"].post("/api/v1/admin/plugins/chatbot/enable/").status_code == 200
    page = web.page("/tickets/new")
    assert "Ask our assistant" in page and "/plugins/chatbot/chat?tenant=" in page
