"""The console without a browser: sign-in, CSRF, role access, and the main flows end to end."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from core.models import Comment, Notification, TenantPlugin, Ticket
from hub import outbox
from tests.hub.web.conftest import PASSWORD, csrf_of, sign_in


def _new_ticket(web, subject: str = "Printer on fire", **extra):  # type: ignore[no-untyped-def]
    web.page("/tickets/new")
    data = {
        "subject": subject,
        "description": "It smokes.",
        "category": "Technical Issue",
        "priority": "High",
        **extra,
    }
    response = web.post("/tickets/new", data)
    assert response.status_code == 303, response.text[:300]
    return int(response.headers["location"].rsplit("/", 1)[1])


def test_sign_in_wrong_password_and_sign_out(app, web_org) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    token = csrf_of(client.get("/login").text)
    bad = client.post(
        "/login",
        data={"email": web_org["agent"].email, "password": "nope", "csrf_token": token},
        follow_redirects=False,
    )
    assert bad.status_code == 401 and "Wrong email or password" in bad.text
    web = sign_in(app, web_org["agent"].email)
    assert web.client.get("/queue").status_code == 200
    out = web.post("/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login"
    again = web.client.get("/queue", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/login?next=/queue")


def test_tenant_is_chosen_at_sign_in(app, web_org, make_tenant, make_member) -> None:  # type: ignore[no-untyped-def]
    other = make_tenant()
    make_member(other, "admin", email=web_org["agent"].email, password=PASSWORD)
    web = sign_in(app, web_org["agent"].email, tenant=other[1])
    # In the second tenant this user is an admin, so the admin pages exist for them.
    assert "Members and roles" in web.page("/admin/members")


def test_post_without_or_with_wrong_csrf_is_rejected(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    web = sign_in(app, web_org["end_user"].email)
    data = {"subject": "x", "description": "y", "category": "Other"}
    missing = web.client.post("/tickets/new", data=data, follow_redirects=False)
    wrong = web.client.post(
        "/tickets/new", data={**data, "csrf_token": "forged"}, follow_redirects=False
    )
    assert missing.status_code == 403 and wrong.status_code == 403
    assert "CSRF" in wrong.text
    with hub.session() as s:
        assert s.scalar(select(Ticket.id)) is None
    login = TestClient(app).post(
        "/login", data={"email": web_org["agent"].email, "password": PASSWORD, "csrf_token": "x"}
    )
    assert login.status_code == 403


def test_roles_see_only_their_pages(app, web_org) -> None:  # type: ignore[no-untyped-def]
    user = sign_in(app, web_org["end_user"].email)
    for url in ("/queue", "/admin/members", "/admin/plugins", "/dashboard"):
        assert user.client.get(url).status_code == 404, url
    tid = _new_ticket(user)
    assert user.post(f"/tickets/{tid}/update", {"status": "Closed"}).status_code == 404
    assert user.post("/queue/bulk", {"ids": [tid], "action": "close"}).status_code == 404
    stranger = sign_in(app, web_org["agent"].email)
    other_ticket = _new_ticket(stranger)  # staff may open tickets too; the end user may not see it
    missing = user.client.get(f"/tickets/{other_ticket}")
    assert (
        missing.status_code == 404 and "My tickets" in missing.text
    )  # the error page keeps the nav
    agent = stranger
    assert agent.client.get("/admin/plugins").status_code == 404
    assert agent.client.get("/queue").status_code == 200
    manager = sign_in(app, web_org["manager"].email)
    assert manager.client.get("/dashboard").status_code == 200
    assert manager.client.get("/queue").status_code == 200  # read-only: see test_reports_pages
    other_user = sign_in(app, web_org["admin"].email)
    assert other_user.client.get("/admin/plugins").status_code == 200


def test_requester_and_agent_flow(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    user = sign_in(app, web_org["end_user"].email)
    tid = _new_ticket(user)
    listing = user.page("/tickets")
    assert f"#{tid} Printer on fire" in listing
    assert '<td data-label="Status"><span class="badge status-new">New</span>' in listing
    agent = sign_in(app, web_org["agent"].email)
    assert "Printer on fire" in agent.page("/queue?status=New&priority=High")
    agent.page(f"/tickets/{tid}")
    name = web_org["admin"].email.split("@")[0]
    assert (
        agent.post(
            f"/tickets/{tid}/update",
            {
                "status": "New",
                "priority": "High",
                "category": "Technical Issue",
                "assigned_to": str(web_org["agent"].user_id),
            },
        ).status_code
        == 303
    )
    with hub.session() as s:
        assert s.get(Ticket, tid).status == "Open"  # assignment opens a New ticket
    assert (
        agent.post(
            f"/tickets/{tid}/reply", {"comment": "Try turning it off.", "kind": "public"}
        ).status_code
        == 303
    )
    assert (
        agent.post(
            f"/tickets/{tid}/reply", {"comment": f"Secret hint @{name}", "kind": "internal"}
        ).status_code
        == 303
    )
    assert (
        agent.post(
            f"/tickets/{tid}/update",
            {
                "status": "Resolved",
                "priority": "High",
                "category": "Technical Issue",
                "assigned_to": str(web_org["agent"].user_id),
            },
        ).status_code
        == 303
    )
    page = agent.page(f"/tickets/{tid}")
    assert "Internal note — staff only" in page and "Secret hint" in page and "Audit trail" in page
    outbox.drain(hub)  # the notification matrix delivers from the outbox
    with hub.session() as s:
        note = s.scalars(
            select(Notification).where(
                Notification.user_id == web_org["admin"].user_id, Notification.kind == "mention"
            )
        ).one()
        assert note.ticket_id == tid
    seen = user.page(f"/tickets/{tid}")
    assert "Try turning it off." in seen and "Secret hint" not in seen
    assert "How did we do?" in seen
    assert user.post(f"/tickets/{tid}/rate", {"rating": "5", "feedback": "Fast"}).status_code == 303
    assert "You rated this ticket" in user.page(f"/tickets/{tid}")
    assert user.post(f"/tickets/{tid}/reopen").status_code == 303
    with hub.session() as s:
        ticket = s.get(Ticket, tid)
        assert ticket.status == "Reopened" and ticket.satisfaction_rating == 5
        assert s.scalar(select(Comment.is_internal).where(Comment.comment.like("Secret%")))


def test_attachment_upload_with_new_ticket_and_reply(app, web_org) -> None:  # type: ignore[no-untyped-def]
    user = sign_in(app, web_org["end_user"].email)
    user.page("/tickets/new")
    response = user.client.post(
        "/tickets/new",
        data={
            "csrf_token": user.csrf,
            "subject": "Logs",
            "description": "see file",
            "category": "Other",
            "priority": "Low",
        },
        files=[("files", ("log.txt", b"line one\n", "text/plain"))],
        follow_redirects=False,
    )
    assert response.status_code == 303
    tid = int(response.headers["location"].rsplit("/", 1)[1])
    page = user.page(f"/tickets/{tid}")
    link = re.search(r'href="(/api/v1/support/tickets/\d+/attachments/\d+/)"', page)
    assert link and "log.txt" in page
    assert user.client.get(link.group(1)).content == b"line one\n"
    bad = user.client.post(
        f"/tickets/{tid}/reply",
        data={"csrf_token": user.csrf, "comment": ""},
        files=[("files", ("x.exe", b"MZ\x90\x00" + b"\x00" * 60, "application/octet-stream"))],
        follow_redirects=False,
    )
    # Refused on the page itself, the file named to choose again (nothing is lost).
    assert bad.status_code == 422
    assert "not accepted" in bad.text and "x.exe" in bad.text


def test_bulk_close_and_saved_views(app, web_org) -> None:  # type: ignore[no-untyped-def]
    user = sign_in(app, web_org["end_user"].email)
    ids = [_new_ticket(user, subject=f"Bulk {i}") for i in range(3)]
    agent = sign_in(app, web_org["agent"].email)
    agent.page("/queue")
    response = agent.post("/queue/bulk", {"ids": ids[:2], "action": "close"})
    assert response.status_code == 303
    assert "2 of 2 tickets updated" in agent.page("/queue")
    closed = agent.page("/queue?status=Closed")
    assert "Bulk 0" in closed and "Bulk 1" in closed and "Bulk 2" not in closed
    assert (
        agent.post("/queue/views", {"name": "Closed ones", "query": "status=Closed"}).status_code
        == 303
    )
    page = agent.page("/queue")
    assert 'href="/queue?status=Closed"' in page and "Closed ones" in page


def test_plugin_enable_is_per_tenant(app, web_org, hub, make_tenant, make_member) -> None:  # type: ignore[no-untyped-def]
    installed = hub.installed()
    if not installed:
        return
    name = installed[0]
    admin = sign_in(app, web_org["admin"].email)
    page = admin.page("/admin/plugins")
    assert all(f'id="plugin-{n}"' in page for n in installed)
    assert admin.post(f"/admin/plugins/{name}/enable").status_code == 303
    other = make_member(make_tenant(), "admin", password=PASSWORD)
    other_admin = sign_in(app, other.email)
    other_page = other_admin.page("/admin/plugins")
    assert re.search(rf'id="state-{name}">.*?Disabled', other_page)
    assert re.search(rf'id="state-{name}">.*?Enabled', admin.page("/admin/plugins"))
    with hub.session() as s:
        rows = s.scalars(select(TenantPlugin).where(TenantPlugin.plugin == name)).all()
        assert [(r.tenant_id, r.enabled) for r in rows] == [(web_org["admin"].tenant_id, True)]


def test_dashboard_has_tables_for_charts(app, web_org) -> None:  # type: ignore[no-untyped-def]
    user = sign_in(app, web_org["end_user"].email)
    _new_ticket(user)
    manager = sign_in(app, web_org["manager"].email)
    page = manager.page("/dashboard")
    assert "Tickets by priority (table)" in page
    assert re.search(r'<th scope="row">High</th><td>1</td>', page)


def test_macro_merge_and_escalation_from_ticket_page(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    from core.models import Audit, Macro

    created = web_org["admin"].post(
        "/api/v1/support/macros/",
        json={
            "name": "Ask for logs",
            "body": "Hi, please send the logs for #{ticket_id}.",
            "changes": {"status": "Pending"},
        },
    )
    user = sign_in(app, web_org["end_user"].email)
    first, second = _new_ticket(user, subject="First"), _new_ticket(user, subject="Second")
    agent = sign_in(app, web_org["agent"].email)
    page = agent.page(f"/tickets/{first}")
    assert "Escalate to admins" in page
    assert created.status_code == 201, created.text
    assert "Ask for logs" in page
    with hub.session() as s:
        macro_id = s.scalar(select(Macro.id).where(Macro.name == "Ask for logs"))
    assert agent.post(f"/tickets/{first}/macro", {"macro_id": macro_id}).status_code == 303
    assert f"please send the logs for #{first}" in user.page(f"/tickets/{first}")
    with hub.session() as s:
        assert s.get(Ticket, first).status == "Pending"
    assert (
        agent.post(f"/tickets/{first}/escalate", {"target": "admin", "note": "VIP"}).status_code
        == 303
    )
    assert agent.post(f"/tickets/{first}/escalate", {"target": "nowhere"}).status_code == 303
    assert "unknown escalation target" in agent.page(f"/tickets/{first}")
    response = agent.post(f"/tickets/{second}/merge", {"target_id": first})
    assert response.status_code == 303 and response.headers["location"] == f"/tickets/{first}"
    merged_page = agent.page(f"/tickets/{first}")
    assert f"Merged from #{second} Second" in merged_page
    with hub.session() as s:
        assert s.get(Ticket, second).merged_into_id == first
        actions = set(s.scalars(select(Audit.action).where(Audit.ticket_id == first)))
        assert {"Escalation Requested", "Merged In"} <= actions


def test_live_state_and_notifications_menu(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    from hub.web.live import live_state  # noqa: F401 - the stream's state function is importable

    user = sign_in(app, web_org["end_user"].email)
    tid = _new_ticket(user)
    agent = sign_in(app, web_org["agent"].email)
    page = agent.page("/queue")
    assert f'data-live-t="{tid}"' in page
    name = web_org["agent"].email.split("@")[0]
    admin = sign_in(app, web_org["admin"].email)
    admin.page(f"/tickets/{tid}")
    admin.post(f"/tickets/{tid}/reply", {"comment": f"@{name} please look", "kind": "internal"})
    outbox.drain(hub)  # the notification matrix delivers from the outbox
    assert 'data-live-n="0"' not in agent.page("/queue")
    menu = agent.client.get("/notifications/menu").text
    assert f"mentioned you on #{tid} " in menu
    assert agent.post("/notifications/read").status_code == 303
    assert 'data-live-n="0"' in agent.page("/notifications")
    # The requester's state never counts internal notes.
    assert 'data-live-c="0"' in user.page("/tickets")


def test_pages_escape_user_text_and_send_a_strict_csp(app, web_org) -> None:  # type: ignore[no-untyped-def]
    user = sign_in(app, web_org["end_user"].email)
    tid = _new_ticket(user, subject="<script>alert(1)</script>")
    response = user.client.get(f"/tickets/{tid}")
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"


def test_sign_in_next_is_local_only(app, web_org) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    token = csrf_of(client.get("/login?next=//evil.example/").text)
    response = client.post(
        "/login",
        data={
            "email": web_org["agent"].email,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/\\evil.example",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_event_stream_needs_a_session(app) -> None:  # type: ignore[no-untyped-def]
    # Signed out, the stream answers 204 so that EventSource stops reconnecting.
    assert TestClient(app).get("/events").status_code == 204


def test_dashboard_figures_are_at_most_a_minute_old(app, web_org) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from core.clock import FrozenClock, set_clock

    clock = FrozenClock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    set_clock(clock)
    manager = sign_in(app, web_org["manager"].email)
    assert re.search(r'<th scope="row">High</th><td>0</td>', manager.page("/dashboard"))
    _new_ticket(sign_in(app, web_org["end_user"].email))
    assert re.search(r'<th scope="row">High</th><td>0</td>', manager.page("/dashboard"))
    clock.advance(seconds=61)
    assert re.search(r'<th scope="row">High</th><td>1</td>', manager.page("/dashboard"))


def test_unknown_address_is_a_page_for_browsers_and_json_for_api_clients(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    page = client.get("/no-such-page", headers={"accept": "text/html"})
    assert page.status_code == 404 and "This page does not exist." in page.text
    api = client.get("/api/v1/no-such-thing/", headers={"accept": "text/html"})
    assert api.status_code == 404 and api.json()["code"] == "http_error"
    assert client.get("/no-such-page").json()["code"] == "http_error"


def test_bad_input_is_a_4xx_page_never_a_crash(app, web_org) -> None:  # type: ignore[no-untyped-def]
    agent = sign_in(app, web_org["agent"].email)
    for url in (
        "/queue?cursor=not-a-cursor",
        "/queue?assignee=someone",
        "/queue?status=Nope",
        "/tickets/99999999999999999999",
        "/tickets/0",
        "/tickets/123456",
        "/dashboard?days=12",
        "/tickets/abc",
    ):
        response = agent.client.get(url, headers={"accept": "text/html"})
        assert 400 <= response.status_code < 500, (url, response.status_code)
        assert "Something is not right" in response.text, url
    response = agent.post("/tickets/1/merge", {"target_id": "x"})
    assert response.status_code == 422


def test_reports_pages_charts_tables_and_exports(app, web_org) -> None:  # type: ignore[no-untyped-def]
    user = sign_in(app, web_org["end_user"].email)
    _new_ticket(user)
    manager = sign_in(app, web_org["manager"].email)
    index = manager.page("/reports")
    assert 'href="/reports/first-response"' in index
    page = manager.page("/reports/trends?interval=day&category=&priority=Medium")
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in page
    assert "<title id=" in page and "<desc id=" in page
    assert "Tickets by category per day (table)" in page
    assert (
        "/api/v1/support/reports/trends/export/?interval=day&amp;priority=Medium&amp;format=pdf"
        in page
    )
    for name in ("volume", "first-response", "resolution", "sla", "agents", "satisfaction"):
        assert "<h1>" in manager.page(f"/reports/{name}")
    bad = manager.client.get("/reports/volume?colour=red", headers={"accept": "text/html"})
    assert bad.status_code == 422 and "colour" in bad.text
    assert manager.client.get("/reports/nope").status_code == 404
    assert user.client.get("/reports/volume").status_code == 404
    dash = manager.page("/dashboard")
    assert "Ticket volume and backlog by day (table)" in dash
    assert "/api/v1/support/reports/volume/export/?" in dash


def test_managers_read_the_queue_without_acting_on_it(app, web_org) -> None:  # type: ignore[no-untyped-def]
    user = sign_in(app, web_org["end_user"].email)
    tid = _new_ticket(user)
    manager = sign_in(app, web_org["manager"].email)
    page = manager.page("/queue?priority=High&sort=-updated_at")
    assert f'href="/tickets/{tid}"' in page
    assert 'action="/queue/bulk"' not in page and 'name="ids"' not in page
    assert "/api/v1/support/exports/tickets/?priority=High&amp;format=csv" in page
    assert manager.post("/queue/bulk", {"ids": [tid], "action": "close"}).status_code == 404
    agent = sign_in(app, web_org["agent"].email)
    assert 'action="/queue/bulk"' in agent.page("/queue")


def test_a_report_is_saved_from_its_page_and_listed(app, web_org) -> None:  # type: ignore[no-untyped-def]
    manager = sign_in(app, web_org["manager"].email)
    page = manager.page("/reports/volume?interval=week&category=Billing")
    assert 'action="/reports/saved"' in page
    r = manager.post(
        "/reports/saved",
        {"report": "volume", "name": "Billing weekly", "query": "interval=week&category=Billing"},
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/reports/volume?")
    index = manager.page("/reports")
    assert (
        '<a href="/reports/volume?category=Billing&amp;interval=week">Billing weekly</a>' in index
    )
    agent = sign_in(app, web_org["agent"].email)
    assert "Billing weekly" not in agent.page("/reports")
    saved_id = re.search(r'action="/reports/saved/(\d+)/delete"', index).group(1)  # type: ignore[union-attr]
    assert agent.post(f"/reports/saved/{saved_id}/delete").status_code == 404
    assert manager.post(f"/reports/saved/{saved_id}/delete").status_code == 303
    assert "Billing weekly" not in manager.page("/reports")


def test_the_admin_home_links_every_admin_page(app, web_org) -> None:  # type: ignore[no-untyped-def]
    """/admin lists the settings pages; each link answers 200 to an admin (and the home is
    not there for anyone else)."""
    import re

    from tests.hub.web.conftest import sign_in

    admin = sign_in(app, web_org["admin"].email)
    home = admin.page("/admin")
    links = re.findall(r'<li><a href="(/admin/[^"]+)">', home)
    assert len(links) >= 15
    for href in links:
        assert admin.client.get(href).status_code == 200, href
    for role in ("agent", "manager", "end_user"):
        assert sign_in(app, web_org[role].email).client.get("/admin").status_code == 404
