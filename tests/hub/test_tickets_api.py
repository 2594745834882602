"""The ticket endpoints of spec section 12 through the ASGI app."""

from __future__ import annotations

from tests.conftest import TenantSet

TICKETS = "/api/v1/support/tickets/"
SAMPLE = {
    "subject": "Cannot access dashboard",
    "description": "I get a 403 error when trying to access the dashboard.",
    "category": "Access",
    "priority": "High",
}


def test_create_ticket_returns_spec_shape(org: TenantSet) -> None:
    r = org.end_user.post(TICKETS, json=SAMPLE)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "New"
    assert isinstance(body["id"], int)
    assert body["created_at"].endswith(("Z", "+00:00"))
    assert body["created_by"] == org.end_user.user_id
    assert r.headers["location"] == f"{TICKETS}{body['id']}/"


def test_end_user_sees_only_own_tickets(org: TenantSet, make_member) -> None:  # type: ignore[no-untyped-def]
    mine = org.end_user.post(TICKETS, json=SAMPLE).json()["id"]
    other = make_member(org.tenant, "end_user")
    theirs = other.post(TICKETS, json=SAMPLE).json()["id"]
    ids = [t["id"] for t in org.end_user.get(TICKETS).json()["results"]]
    assert ids == [mine]
    assert org.end_user.get(f"{TICKETS}{theirs}/").status_code == 404
    agent_ids = {t["id"] for t in org.agent.get(TICKETS).json()["results"]}
    assert agent_ids == {mine, theirs}


def test_other_tenant_ticket_is_404(org: TenantSet, other_org: TenantSet) -> None:
    tid = org.end_user.post(TICKETS, json=SAMPLE).json()["id"]
    for member in (other_org.admin, other_org.agent, other_org.manager, other_org.end_user):
        assert member.get(f"{TICKETS}{tid}/").status_code == 404
        assert member.patch(f"{TICKETS}{tid}/", json={"priority": "Low"}).status_code == 404
        assert member.post(f"{TICKETS}{tid}/comment/", json={"comment": "x"}).status_code == 404


def test_invalid_input_is_a_clear_422(org: TenantSet) -> None:
    r = org.end_user.post(TICKETS, json={**SAMPLE, "priority": "Urgent"})
    assert r.status_code == 422
    assert "priority" in r.json()["detail"]
    r = org.end_user.post(TICKETS, json={**SAMPLE, "subject": ""})
    assert r.status_code == 422


def test_no_token_is_401(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get(TICKETS)
    assert r.status_code == 401
    assert r.json()["detail"]
    r = client.get(TICKETS, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
