"""The help centre: sections, search and articles at their stable address, for end users, staff
and the public; "Was this helpful?" counted once per reader; and every suggestion's URL opens
for the person it was made for."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from core.models import KbFeedback
from tests.hub.web.conftest import csrf_of, sign_in


def _article(member, **kw):  # type: ignore[no-untyped-def]
    body = {
        "title": "Reset your password",
        "status": "published",
        "visibility": "public",
        "category": "Access",
        "body": "Open the sign-in page, choose **Forgot password** and follow the emailed link.",
        **kw,
    }
    answer = member.post("/api/v1/support/kb/articles/", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def _anonymous(app) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, raise_server_exceptions=False)


def test_public_reader_sees_published_public_articles_only(app, web_org) -> None:  # type: ignore[no-untyped-def]
    agent = web_org["agent"]
    public = _article(agent)
    internal = _article(agent, title="Escalation runbook", visibility="agents", category="Ops")
    draft = _article(agent, title="Unfinished VPN guide", status="draft", category="Network")
    slug = agent.tenant_slug
    anon = _anonymous(app)

    page = anon.get(f"/kb/articles/{public['id']}")
    assert page.status_code == 200, page.text[:300]
    assert "Reset your password" in page.text and "<strong>Forgot password</strong>" in page.text
    home = anon.get(f"/kb?tenant={slug}")
    assert home.status_code == 200
    assert "Access" in home.text and "Reset your password" in home.text
    assert "Escalation runbook" not in home.text and "Unfinished VPN guide" not in home.text
    section = anon.get(f"/kb/sections/Access?tenant={slug}")
    assert section.status_code == 200 and "Reset your password" in section.text
    for hidden in (internal, draft):
        answer = anon.get(f"/kb/articles/{hidden['id']}", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")

    staff = sign_in(app, agent.email)
    assert "Escalation runbook" in staff.page("/kb")
    assert "Agents only" in staff.page(f"/kb/articles/{internal['id']}")
    # Drafts stay in the editor, never in the help centre.
    assert staff.client.get(f"/kb/articles/{draft['id']}").status_code == 404
    end_user = sign_in(app, web_org["end_user"].email)
    assert "Escalation runbook" not in end_user.page("/kb")
    assert end_user.client.get(f"/kb/articles/{internal['id']}").status_code == 404


def test_search_finds_the_tenants_articles_only(app, web_org, make_tenant, make_member) -> None:  # type: ignore[no-untyped-def]
    _article(web_org["agent"], title="Printer jams on tray two", category="Hardware")
    other = make_member(make_tenant(), "agent")
    _article(other, title="Printer drivers for macOS", category="Hardware")
    reader = sign_in(app, web_org["end_user"].email)
    found = reader.page("/kb?q=printer")
    assert "Printer jams on tray two" in found and "Printer drivers for macOS" not in found
    assert "1 article for" in found
    assert "No article matches" in reader.page("/kb?q=zeppelin")


def test_a_restricted_help_centre_needs_a_sign_in(app, web_org) -> None:  # type: ignore[no-untyped-def]
    article = _article(web_org["agent"])
    admin = sign_in(app, web_org["admin"].email)
    admin.page("/admin/kb")
    answer = admin.post("/admin/kb/settings", {})
    assert answer.status_code == 303
    anon = _anonymous(app)
    for url in (f"/kb/articles/{article['id']}", f"/kb?tenant={web_org['agent'].tenant_slug}"):
        answer = anon.get(url, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert "Reset your password" in sign_in(app, web_org["end_user"].email).page(
        f"/kb/articles/{article['id']}"
    )
    # Only admins change it.
    agent = sign_in(app, web_org["agent"].email)
    agent.page("/admin/kb")
    assert agent.post("/admin/kb/settings", {"public": "on"}).status_code == 404
    admin.page("/admin/kb")
    assert admin.post("/admin/kb/settings", {"public": "on"}).status_code == 303
    assert anon.get(f"/kb/articles/{article['id']}").status_code == 200


def test_other_tenants_read_only_what_the_public_may(
    app, web_org, make_tenant, make_member
) -> None:  # type: ignore[no-untyped-def]
    public = _article(web_org["agent"])
    internal = _article(web_org["agent"], title="Runbook", visibility="agents")
    stranger = make_member(make_tenant(), "agent", password="correct horse battery staple")
    web = sign_in(app, stranger.email)
    page = web.page(f"/kb/articles/{public['id']}")
    assert "Reset your password" in page and "/admin/kb/" not in page  # no edit link
    assert web.client.get(f"/kb/articles/{internal['id']}").status_code == 404
    assert web.client.get(f"/kb?tenant={web_org['agent'].tenant_slug}").status_code == 200


def test_was_this_helpful_counts_once_per_reader(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    article = _article(web_org["agent"])
    url = f"/kb/articles/{article['id']}"
    reader = sign_in(app, web_org["end_user"].email)
    reader.page(url)
    assert reader.post(f"{url}/feedback", {"helpful": "yes"}).status_code == 303
    reader.page(url)
    assert reader.post(f"{url}/feedback", {"helpful": "no"}).status_code == 303

    anon = _anonymous(app)
    token = csrf_of(anon.get(url).text)
    assert anon.post(f"{url}/feedback", data={"helpful": "yes"}).status_code == 403
    voted = anon.post(
        f"{url}/feedback", data={"helpful": "yes", "csrf_token": token}, follow_redirects=False
    )
    assert voted.status_code == 303
    assert "You answered yes" in anon.get(voted.headers["location"]).text
    anon.post(f"{url}/feedback", data={"helpful": "yes", "csrf_token": token})
    bad = anon.post(f"{url}/feedback", data={"helpful": "maybe", "csrf_token": token})
    assert bad.status_code == 422

    with hub.session() as s:
        rows = s.execute(
            select(KbFeedback.helpful, func.count())
            .where(KbFeedback.article_id == article["id"])
            .group_by(KbFeedback.helpful)
        ).all()
    assert dict(rows) == {True: 1, False: 1}
    listing = sign_in(app, web_org["agent"].email).page("/admin/kb")
    assert "1 yes, 1 no" in listing


def test_every_suggestion_url_opens_for_its_reader(app, web_org) -> None:  # type: ignore[no-untyped-def]
    _article(web_org["agent"])
    _article(web_org["agent"], title="Runbook: password resets", visibility="agents")
    question = "I forgot my password and cannot reset it"
    for role, signed in (("end_user", True), ("agent", True), ("end_user", False)):
        member = web_org[role]
        answer = member.get("/api/v1/support/kb/suggest/", params={"q": question})
        assert answer.status_code == 200, answer.text
        urls = [s["url"] for s in answer.json()["results"]]
        assert urls, role
        client = sign_in(app, member.email).client if signed else _anonymous(app)
        for url in urls:
            path = url.split("://", 1)[-1].split("/", 1)[-1]
            assert client.get("/" + path).status_code == 200, (role, signed, url)


def test_suggested_articles_on_the_ticket_page(app, web_org) -> None:  # type: ignore[no-untyped-def]
    article = _article(web_org["agent"])
    ticket = web_org["end_user"].post(
        "/api/v1/support/tickets/",
        json={"subject": "Forgot my password", "description": "I cannot reset my password"},
    )
    assert ticket.status_code == 201, ticket.text
    tid = ticket.json()["id"]
    agent = sign_in(app, web_org["agent"].email)
    assert f'hx-get="/tickets/{tid}/articles"' in agent.page(f"/tickets/{tid}")
    fragment = agent.page(f"/tickets/{tid}/articles")
    assert "Reset your password" in fragment and "Insert link" in fragment
    assert f"/kb/articles/{article['id']}" in fragment
    requester = sign_in(app, web_org["end_user"].email)
    assert requester.client.get(f"/tickets/{tid}/articles").status_code == 404
