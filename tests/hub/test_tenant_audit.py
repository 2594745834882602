"""The tenant-level audit log: sign-ins, failed sign-ins, members and roles, with the client
address, never a password; read paged through the API and the admin console page."""

from __future__ import annotations

import json

from sqlalchemy import select

from core.models import TenantAudit
from core.services import audit
from hub.api.deps import SESSION_COOKIE, make_session_cookie

PASSWORD = "correct horse battery staple"
URL = "/api/v1/admin/audit/"


def _rows(hub, tenant_id) -> list[TenantAudit]:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        return list(
            s.scalars(
                select(TenantAudit)
                .where(TenantAudit.tenant_id == tenant_id)
                .order_by(TenantAudit.id)
            )
        )


def test_sign_ins_and_failures_are_audited_without_the_password(
    hub, client, org, other_org, make_member
) -> None:  # type: ignore[no-untyped-def]
    agent = make_member(org.tenant, "agent", password=PASSWORD)
    r = client.post("/api/v1/auth/login", json={"email": agent.email, "password": "wrong one!!"})
    assert r.status_code == 401
    r = client.post("/api/v1/auth/login", json={"email": agent.email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    # An unknown address belongs to no tenant: no row anywhere.
    client.post("/api/v1/auth/login", json={"email": "nobody@x.example", "password": PASSWORD})
    rows = _rows(hub, org.tenant[0])
    assert [(r.action, r.target_email, r.ip) for r in rows] == [
        (audit.SIGNIN_FAILED, agent.email, "testclient"),
        (audit.SIGNIN, agent.email, "testclient"),
    ]
    assert rows[1].actor_id == agent.user_id and rows[1].details == {"via": "api"}
    assert _rows(hub, other_org.tenant[0]) == []
    dumped = json.dumps([(r.action, r.details, r.target_email) for r in rows])
    assert PASSWORD not in dumped and "wrong one" not in dumped


def test_console_sign_in_is_audited(hub, client, org, make_member) -> None:  # type: ignore[no-untyped-def]
    agent = make_member(org.tenant, "agent", password=PASSWORD)
    client.get("/login")
    token = client.cookies.get("hub_login_csrf")
    r = client.post("/login", data={"email": agent.email, "password": "nope", "csrf_token": token})
    assert r.status_code == 401
    r = client.post(
        "/login",
        data={"email": agent.email, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    failed, row = _rows(hub, org.tenant[0])
    assert (failed.action, failed.target_email) == (audit.SIGNIN_FAILED, agent.email)
    assert (row.action, row.actor_email, row.details) == (
        audit.SIGNIN,
        agent.email,
        {"via": "console"},
    )


def test_member_changes_are_audited_and_paged(hub, org, other_org) -> None:  # type: ignore[no-untyped-def]
    r = org.admin.post("/api/v1/admin/members/", json={"email": "new@x.example", "role": "agent"})
    assert r.status_code == 201, r.text
    org.admin.post("/api/v1/admin/members/", json={"email": "new@x.example", "role": "admin"})
    org.admin.post("/api/v1/admin/members/", json={"email": "new@x.example", "role": "admin"})
    body = org.admin.get(URL).json()
    assert [(e["action"], e["target_email"], e["details"]) for e in body["results"]] == [
        (audit.ROLE_CHANGED, "new@x.example", {"old": "agent", "new": "admin"}),
        (audit.MEMBER_ADDED, "new@x.example", {"role": "agent"}),
        # The admin's token, first used this hour (one row per token per hour, not per request).
        ("token.used", "", {"id": body["results"][-1]["details"]["id"]}),
    ]
    assert body["results"][0]["actor_email"] == org.admin.email and body["next_before"] is None
    first = org.admin.get(URL, params={"limit": 1}).json()
    assert len(first["results"]) == 1 and first["next_before"] == body["results"][0]["id"]
    rest = org.admin.get(URL, params={"limit": 5, "before": first["next_before"]}).json()
    assert rest["results"] == body["results"][1:] and rest["next_before"] is None
    # Another tenant's admin sees only their own trail.
    theirs = other_org.admin.get(URL).json()["results"]
    assert [(e["action"], e["actor_email"]) for e in theirs] == [
        ("token.used", other_org.admin.email)
    ]
    assert org.agent.get(URL).status_code == 403


def test_the_console_page_lists_the_log_for_admins_only(hub, client, org) -> None:  # type: ignore[no-untyped-def]
    org.admin.post("/api/v1/admin/members/", json={"email": "paged@x.example", "role": "agent"})
    value, _ = make_session_cookie(hub, user_id=org.admin.user_id, tenant_id=org.tenant[0])
    client.cookies.set(SESSION_COOKIE, value)
    page = client.get("/admin/audit")
    assert page.status_code == 200 and "paged@x.example" in page.text
    assert audit.MEMBER_ADDED in page.text and 'href="/admin" aria-current="page"' in page.text
    value, _ = make_session_cookie(hub, user_id=org.agent.user_id, tenant_id=org.tenant[0])
    client.cookies.set(SESSION_COOKIE, value)
    assert client.get("/admin/audit").status_code == 404
    client.cookies.clear()
