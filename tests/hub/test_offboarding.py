"""Offboarding through the API: deactivate, reactivate, remove, roles, ticket handover, guards."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.automation.rules import eligible_agents
from core.errors import Conflict
from core.models import Audit, TenantAudit, Ticket
from core.permissions import system_actor
from core.services import offboarding
from hub.api.deps import SESSION_COOKIE, make_session_cookie
from tests.conftest import TenantSet

T = "/api/v1/support/tickets/"
M = "/api/v1/admin/members/"
NEW = {"subject": "VPN drops", "description": "Every hour.", "category": "Technical Issue"}


def _assigned_ticket(org: TenantSet, user_id: int) -> int:
    tid = org.end_user.post(T, json=NEW).json()["id"]
    r = org.admin.patch(f"{T}{tid}/", json={"assigned_to": user_id})
    assert r.status_code == 200, r.text
    return int(tid)


def test_a_deactivated_agents_session_and_token_get_401_on_the_next_request(
    hub, client, org: TenantSet
) -> None:  # type: ignore[no-untyped-def]
    value, _ = make_session_cookie(hub, user_id=org.agent.user_id, tenant_id=org.agent.tenant_id)
    # Warm: the token and the session both work just before.
    assert org.agent.get(T).status_code == 200
    assert org.agent.get(T).status_code == 200
    client.cookies.set(SESSION_COOKIE, value)
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/queue").status_code == 200
    client.cookies.clear()

    r = org.admin.post(f"{M}{org.agent.user_id}/deactivate/", json={})
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False and r.json()["member"] is True

    assert org.agent.get(T).status_code == 401
    assert org.agent.post(T, json=NEW).status_code == 401
    client.cookies.set(SESSION_COOKIE, value)
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/queue", follow_redirects=False).status_code in (302, 303)
    client.cookies.clear()
    with hub.session() as s:
        assert org.agent.user_id not in [m.user_id for m, _ in eligible_agents(s, org.tenant[0])]

    listed = {m["id"]: m for m in org.admin.get(M).json()}
    assert listed[org.agent.user_id]["active"] is False

    r = org.admin.post(f"{M}{org.agent.user_id}/reactivate/")
    assert r.status_code == 200 and r.json()["active"] is True
    assert org.agent.get(T).status_code == 200  # tokens count again
    client.cookies.set(SESSION_COOKIE, value)
    assert client.get("/api/v1/me").status_code == 401  # sessions ended: sign in again
    client.cookies.clear()
    with hub.session() as s:
        assert org.agent.user_id in [m.user_id for m, _ in eligible_agents(s, org.tenant[0])]
        actions = list(s.scalars(select(TenantAudit.action).order_by(TenantAudit.id)))
    assert "member.deactivated" in actions and "member.reactivated" in actions


def test_deactivation_in_one_tenant_leaves_the_other_alone(
    hub, org: TenantSet, make_tenant, make_member
) -> None:  # type: ignore[no-untyped-def]
    other = make_tenant()
    twin = make_member(other, "agent", email=org.agent.email)
    assert org.admin.post(f"{M}{org.agent.user_id}/deactivate/", json={}).status_code == 200
    assert org.agent.get(T).status_code == 401
    assert twin.get(T).status_code == 200


def test_unassign_or_reassign_open_tickets_audited_per_ticket(
    hub, org: TenantSet, make_member
) -> None:  # type: ignore[no-untyped-def]
    other_agent = make_member(org.tenant, "agent")
    first = _assigned_ticket(org, org.agent.user_id)
    second = _assigned_ticket(org, org.agent.user_id)
    r = org.admin.post(
        f"{M}{org.agent.user_id}/deactivate/", json={"reassign_to": other_agent.user_id}
    )
    assert r.status_code == 200, r.text
    assert r.json()["tickets"] == 2 and r.json()["reassigned_to"] == other_agent.user_id
    for tid in (first, second):
        assert org.admin.get(f"{T}{tid}/").json()["assigned_to"] == other_agent.user_id
    with hub.session() as s:
        rows = list(
            s.scalars(
                select(Audit).where(
                    Audit.action == "Assignment",
                    Audit.ticket_id.in_([first, second]),
                )
            )
        )
    assert {(r.ticket_id, r.new_value) for r in rows} >= {
        (first, str(other_agent.user_id)),
        (second, str(other_agent.user_id)),
    }

    # Removal with unassignment; a deactivated agent is no valid target.
    third = _assigned_ticket(org, other_agent.user_id)
    bad = org.admin.post(
        f"{M}{other_agent.user_id}/remove/", json={"reassign_to": org.agent.user_id}
    )
    assert bad.status_code == 422 and "active agent" in bad.json()["detail"]
    r = org.admin.post(f"{M}{other_agent.user_id}/remove/", json={})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "user_id": other_agent.user_id,
        "member": False,
        "active": False,
        "tickets": 3,
        "reassigned_to": None,
    }
    with hub.session() as s:
        assert s.get(Ticket, third).assigned_to is None
        assert s.get(Ticket, first).assigned_to is None
    assert other_agent.get(T).status_code == 401
    assert other_agent.user_id not in {m["id"] for m in org.admin.get(M).json()}
    # Removed: a second removal is a 404, like a foreign member.
    assert org.admin.post(f"{M}{other_agent.user_id}/remove/", json={}).status_code == 404


def test_yourself_and_the_last_admin_are_guarded(hub, org: TenantSet, make_member) -> None:  # type: ignore[no-untyped-def]
    me = org.admin.user_id
    for action in ("deactivate", "remove"):
        r = org.admin.post(f"{M}{me}/{action}/", json={})
        assert r.status_code == 409 and "yourself" in r.json()["detail"]
    r = org.admin.patch(f"{M}{me}/", json={"role": "agent"})
    assert r.status_code == 409 and "yourself" in r.json()["detail"]
    # Roles change per row; another admin may step down an admin while one is left.
    second = make_member(org.tenant, "admin")
    r = org.admin.patch(f"{M}{second.user_id}/", json={"role": "agent"})
    assert r.status_code == 200 and r.json()["role"] == "agent"
    # An active admin acting on another admin always leaves one, so the last-admin guard is
    # the operator's (system actor, CLI): org.admin is now the only admin.
    with hub.session() as s:
        for action in (offboarding.deactivate, offboarding.remove):
            with pytest.raises(Conflict) as caught:
                action(s, system_actor(org.tenant[0]), me)
            assert "last admin" in caught.value.message
        with pytest.raises(Conflict):
            offboarding.set_role(s, system_actor(org.tenant[0]), me, "agent")
    with hub.session() as s:
        actions = list(s.scalars(select(TenantAudit.action)))
    assert "member.role_changed" in actions


def test_members_of_another_tenant_are_404(org: TenantSet, other_org: TenantSet) -> None:
    foreign = other_org.agent.user_id
    for method, url, body in (
        ("POST", f"{M}{foreign}/deactivate/", {}),
        ("POST", f"{M}{foreign}/reactivate/", None),
        ("POST", f"{M}{foreign}/remove/", {}),
        ("PATCH", f"{M}{foreign}/", {"role": "admin"}),
    ):
        r = org.admin.client.request(method, url, headers=org.admin.headers, json=body)
        assert r.status_code == 404, (url, r.text)
    assert other_org.agent.get(T).status_code == 200


def test_a_deactivated_member_cannot_sign_in_there(hub, client, make_tenant, make_member) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    admin = make_member(tenant, "admin")
    agent = make_member(tenant, "agent", password="correct horse battery staple")
    login = {"email": agent.email, "password": "correct horse battery staple"}
    assert client.post("/api/v1/auth/login", json=login).status_code == 200
    client.cookies.clear()
    assert admin.post(f"{M}{agent.user_id}/deactivate/", json={}).status_code == 200
    r = client.post("/api/v1/auth/login", json=login)
    assert r.status_code == 401 and "no tenant" in r.json()["detail"]
    with hub.session() as s:
        from core.services import identity

        assert identity.staff_actor(s, tenant[0], agent.email) is None
    # The operator's account switch is the operator's to undo.
    assert admin.post(f"{M}{agent.user_id}/reactivate/").status_code == 200
    with hub.session() as s:
        offboarding.deactivate_account(s, identity.user_by_email(s, agent.email))  # type: ignore[arg-type]
    r = admin.post(f"{M}{agent.user_id}/reactivate/")
    assert r.status_code == 409 and "operator" in r.json()["detail"]
