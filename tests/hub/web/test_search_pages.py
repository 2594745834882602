"""Search in the console: the queue's and the portal's search box (where each row matched,
internal notes for staff only, a query without words explained, not a 500), and the admin's
search language page and API (audited)."""

from __future__ import annotations

from sqlalchemy import select

from core.models import Audit
from tests.hub.web.conftest import sign_in

T = "/api/v1/support/tickets/"


def _ticket(member, subject: str, text: str) -> int:  # type: ignore[no-untyped-def]
    r = member.post(T, json={"subject": subject, "description": text, "category": "Other"})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_queue_and_portal_search_every_message(app, web_org) -> None:  # type: ignore[no-untyped-def]
    requester, agent = web_org["end_user"], web_org["agent"]
    tid = _ticket(requester, "Printer offline", "nothing prints")
    _ticket(requester, "Other thing", "unrelated")
    agent.post(f"{T}{tid}/comment/", json={"comment": "Please attach a screenshot"})
    agent.post(f"{T}{tid}/comment/", json={"comment": "toner cartridge empty", "is_internal": True})
    staff = sign_in(app, agent.email)
    page = staff.page("/queue?q=screenshot")
    assert f"/tickets/{tid}" in page and "Other thing" not in page
    assert "Reply #1:" in page and "<mark>screenshot</mark>" in page
    assert 'value="relevance" selected' in page  # a search is ranked unless told otherwise
    note = staff.page("/queue?q=cartridge&status=New")
    assert "Internal note #1:" in note and "<mark>cartridge</mark>" in note
    rows = staff.page("/queue?q=cartridge&partial=1")
    assert "<mark>cartridge</mark>" in rows
    mine = sign_in(app, requester.email)
    assert "<mark>screenshot</mark>" in mine.page("/tickets?q=screenshot")
    hidden = mine.page("/tickets?q=cartridge")
    assert f"/tickets/{tid}" not in hidden and "cartridge empty" not in hidden
    bad = staff.client.get("/queue?q=%22%22%20***")
    assert bad.status_code == 200
    assert "the search needs at least one word" in bad.text and 'aria-invalid="true"' in bad.text
    assert "the search needs at least one word" in mine.page("/tickets?q=***")


def test_admin_sets_the_search_language(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    admin_member = web_org["admin"]
    _ticket(web_org["end_user"], "Drucker", "Die Drucker drucken nicht")
    admin = sign_in(app, admin_member.email)
    page = admin.page("/admin/search")
    assert '<option value="english" selected>' in page and "1 message is indexed" in page
    assert "/admin/search" in admin.page("/admin")
    r = admin.post("/admin/search", {"language": "german"})
    assert r.status_code == 303
    assert '<option value="german" selected>' in admin.page("/admin/search")
    r = admin.post("/admin/search", {"language": "klingon"})
    assert r.status_code == 422 and "language must be one of" in r.text
    api = admin_member.get("/api/v1/admin/search/").json()
    assert api["language"] == "german" and api["entries"] == 1 and "spanish" in api["languages"]
    r = admin_member.client.put(
        "/api/v1/admin/search/", json={"language": "spanish"}, headers=admin_member.headers
    )
    assert r.status_code == 200 and r.json()["language"] == "spanish"
    r = admin_member.client.put(
        "/api/v1/admin/search/", json={"language": "x"}, headers=admin_member.headers
    )
    assert r.status_code == 422
    # Still found after the configuration changed under the rows.
    found = web_org["agent"].get(T, params={"q": "drucker"}).json()["results"]
    assert [t["subject"] for t in found] == ["Drucker"]
    assert web_org["agent"].get("/api/v1/admin/search/").status_code == 403
    assert sign_in(app, web_org["agent"].email).client.get("/admin/search").status_code == 404
    with hub.session() as s:
        rows = s.scalars(
            select(Audit).where(
                Audit.tenant_id == admin_member.tenant_id,
                Audit.action == "Search Language Changed",
            )
        ).all()
    assert [(r.old_value, r.new_value) for r in rows] == [
        ("english", "german"),
        ("german", "spanish"),
    ]


def test_stemming_follows_the_language_on_postgresql(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    """English stems ("printers" finds "printer"); "simple" does not. SQLite's FTS5 never stems."""
    if hub.engine.dialect.name != "postgresql":
        import pytest

        pytest.skip("stemming is PostgreSQL's (FTS5 here: unicode61, no stemmer)")
    _ticket(web_org["end_user"], "Printers", "all printers are down")
    agent = web_org["agent"]
    assert len(agent.get(T, params={"q": "printer"}).json()["results"]) == 1
    admin = web_org["admin"]
    admin.client.put("/api/v1/admin/search/", json={"language": "simple"}, headers=admin.headers)
    assert agent.get(T, params={"q": "printer"}).json()["results"] == []
    assert len(agent.get(T, params={"q": "printers"}).json()["results"]) == 1
