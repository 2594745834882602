"""Macros in the console: written on /admin/macros with their placeholders checked on save,
previewed on a ticket, filled into the reply form for the agent to review (nothing sent until
they press Send), or sent as they are by an explicit choice."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from core.models import Comment, Macro, Ticket
from tests.hub.web.conftest import sign_in

MACRO = {
    "name": "Password reset done",
    "body": "Hello {requester_name}, your password for ticket #{ticket_id} is reset.",
    "kind": "public",
    "active": "on",
    "status": "Pending",
    "priority": "",
    "category": "",
    "assigned_to": "",
}


def _ticket(member, subject="Cannot sign in"):  # type: ignore[no-untyped-def]
    answer = member.post(
        "/api/v1/support/tickets/",
        json={"subject": subject, "description": "Locked out", "category": "Access"},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def _comments(hub, ticket_id: int) -> int:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        return s.scalar(
            select(func.count()).select_from(Comment).where(Comment.ticket_id == ticket_id)
        )


def _create(admin, **kw):  # type: ignore[no-untyped-def]
    admin.page("/admin/macros/new")
    answer = admin.post("/admin/macros/new", {**MACRO, **kw})
    assert answer.status_code == 303, answer.text[:500]
    return int(answer.headers["location"].rsplit("/", 1)[1])


def test_an_unknown_placeholder_is_refused_on_save(app, web_org) -> None:  # type: ignore[no-untyped-def]
    admin = sign_in(app, web_org["admin"].email)
    admin.page("/admin/macros/new")
    body = "Hi {{requester.name}}, thanks for waiting."
    answer = admin.post("/admin/macros/new", {**MACRO, "body": body})
    assert answer.status_code == 422
    assert "unknown placeholder {{requester.name}}" in answer.text
    assert "{requester_name}" in answer.text and body in answer.text.replace("&#34;", '"')
    assert re.search(r'id="m-body"[^>]*aria-invalid="true"', answer.text)
    api = web_org["admin"].post(
        "/api/v1/support/macros/",
        json={"name": "x", "body": "Dear {customer}", "changes": {}},
    )
    assert api.status_code == 422 and "{customer}" in api.text and "{agent_name}" in api.text
    rule = web_org["admin"].post(
        "/api/v1/support/rules/",
        json={
            "name": "note",
            "trigger": "ticket.created",
            "conditions": [],
            "actions": [{"type": "internal_note", "text": "Check {{ticket.sla}}"}],
        },
    )
    assert rule.status_code == 422 and "{{ticket.sla}}" in rule.text


def test_preview_then_fill_review_and_send(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    admin = sign_in(app, web_org["admin"].email)
    macro_id = _create(admin)
    tid = _ticket(web_org["end_user"])
    preview = admin.page(f"/admin/macros/{macro_id}?ticket={tid}")
    assert f"your password for ticket #{tid} is reset" in preview
    assert "Then sets: status → Pending" in preview

    agent = sign_in(app, web_org["agent"].email)
    filled = agent.page(f"/tickets/{tid}?macro={macro_id}")
    assert "Nothing has been sent yet" in filled
    reply = re.search(r'<textarea id="comment"[^>]*>([^<]*)</textarea>', filled)
    assert reply and f"for ticket #{tid} is reset" in reply.group(1)
    assert '<option value="Pending" selected>Pending</option>' in filled
    assert _comments(hub, tid) == 0, "filling the form sends nothing"

    edited = reply.group(1).replace("is reset", "is reset; sign in again")
    sent = agent.post(
        f"/tickets/{tid}/reply", {"comment": edited, "kind": "public", "set_status": "Pending"}
    )
    assert sent.status_code == 303
    with hub.session() as s:
        ticket = s.get(Ticket, tid)
        assert ticket is not None and ticket.status == "Pending"
        bodies = s.scalars(select(Comment.comment).where(Comment.ticket_id == tid)).all()
    assert bodies == [edited]


def test_send_as_it_is_is_an_explicit_choice(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    admin = sign_in(app, web_org["admin"].email)
    macro_id = _create(admin)
    tid = _ticket(web_org["end_user"])
    agent = sign_in(app, web_org["agent"].email)
    page = agent.page(f"/tickets/{tid}?macro={macro_id}")
    assert "Send “Password reset done” as it is" in page
    assert agent.post(f"/tickets/{tid}/macro", {"macro_id": macro_id}).status_code == 303
    assert _comments(hub, tid) == 1


def test_a_macro_saved_before_the_check_is_never_sent_half_filled(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        legacy = Macro(
            tenant_id=web_org["admin"].tenant_id,
            name="Legacy",
            body="Hi {{requester.name}}",
            is_internal=False,
            is_active=True,
            changes={},
        )
        s.add(legacy)
        s.flush()
        macro_id = legacy.id
    tid = _ticket(web_org["end_user"])
    answer = web_org["agent"].post(
        f"/api/v1/support/macros/{macro_id}/apply/", json={"ticket_ids": [tid]}
    )
    assert answer.status_code in (200, 422), answer.text
    assert "unknown placeholder" in answer.text
    assert _comments(hub, tid) == 0


def test_macro_pages_are_for_admins_of_the_tenant(app, web_org, make_tenant, make_member) -> None:  # type: ignore[no-untyped-def]
    admin = sign_in(app, web_org["admin"].email)
    macro_id = _create(admin)
    for role in ("agent", "end_user", "manager"):
        web = sign_in(app, web_org[role].email)
        assert web.client.get("/admin/macros").status_code == 404, role
        assert web.client.get(f"/admin/macros/{macro_id}").status_code == 404, role
    other = make_member(make_tenant(), "admin", password="correct horse battery staple")
    web = sign_in(app, other.email)
    assert web.client.get(f"/admin/macros/{macro_id}").status_code == 404
    web.page("/admin/macros")
    assert web.post(f"/admin/macros/{macro_id}/delete").status_code == 404
    # A preview of another tenant's ticket says so and shows nothing of it.
    foreign = _ticket(make_member(make_tenant(), "end_user"), subject="Secret project")
    admin.page(f"/admin/macros/{macro_id}")
    answer = admin.client.get(f"/admin/macros/{macro_id}?ticket={foreign}")
    assert answer.status_code == 404 and "Secret project" not in answer.text
    admin.page(f"/admin/macros/{macro_id}")
    assert admin.post(f"/admin/macros/{macro_id}/delete").status_code == 303
    assert admin.client.get(f"/admin/macros/{macro_id}").status_code == 404
