"""Likely duplicates through the API: a new ticket like an open ticket of the same requester is
flagged on both (after the outbox delivers ``ticket.created``), with the reason; agents dismiss
or merge from the flag; nothing is merged by itself; other tenants', closed and old tickets are
never candidates; end users never see flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core import clock
from core.duplicates import service
from core.models import DuplicateFlag, Ticket
from hub import outbox

VPN = {
    "subject": "VPN drops every hour",
    "description": "Since Monday my VPN connection drops every hour and I have to reconnect. "
    "GlobalProtect shows gateway disconnected.",
    "category": "Technical Issue",
}
VPN_AGAIN = {
    "subject": "vpn keeps disconnecting",
    "description": "my vpn keeps disconnecting about once an hour, globalprotect says gateway "
    "disconnected, I reconnect each time",
    "category": "Technical Issue",
}
OTHER = {
    "subject": "Laptop battery drains in an hour",
    "description": "My Dell Latitude battery goes from full to empty in about an hour.",
    "category": "Technical Issue",
}


def _open(member, body) -> int:  # type: ignore[no-untyped-def]
    resp = member.post("/api/v1/support/tickets/", json=body)
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def _flags(member, ticket_id: int) -> list[dict]:  # type: ignore[no-untyped-def]
    resp = member.get(f"/api/v1/support/tickets/{ticket_id}/duplicates/")
    assert resp.status_code == 200, resp.text
    return list(resp.json())


def test_a_similar_ticket_is_flagged_on_both_with_its_reason_and_never_merged(hub, org) -> None:
    first = _open(org.end_user, VPN)
    unrelated = _open(org.end_user, OTHER)
    second = _open(org.end_user, VPN_AGAIN)
    outbox.drain(hub)
    on_second = _flags(org.agent, second)
    assert [f["other_ticket_id"] for f in on_second] == [first]
    flag = on_second[0]
    assert flag["status"] == "open" and flag["score"] >= 0.6
    assert flag["reason"].startswith("same requester")
    assert "vpn" in flag["reason"]
    on_first = _flags(org.agent, first)
    assert [(f["id"], f["other_ticket_id"]) for f in on_first] == [(flag["id"], second)]
    assert on_first[0]["other_subject"] == VPN_AGAIN["subject"]
    assert _flags(org.agent, unrelated) == []
    # Delivered again (at least once): still one flag; and nothing was merged.
    with hub.session() as s:
        service.check_ticket(s, s.get(Ticket, second))
        (stored,) = s.scalars(select(DuplicateFlag)).all()
        # The stored reason holds no word of the tickets (erasure rewrites them, not flags).
        assert stored.reason.startswith("same requester, similar")
        assert "vpn" not in stored.reason.lower()
        assert all(t.merged_into_id is None for t in s.scalars(select(Ticket)))
    assert org.manager.get(f"/api/v1/support/tickets/{first}/duplicates/").status_code == 200


def test_end_users_never_see_flags(hub, org) -> None:
    first = _open(org.end_user, VPN)
    _open(org.end_user, VPN_AGAIN)
    outbox.drain(hub)
    resp = org.end_user.get(f"/api/v1/support/tickets/{first}/duplicates/")
    assert resp.status_code == 403
    detail = org.end_user.get(f"/api/v1/support/tickets/{first}/")
    assert "duplicate" not in detail.text.lower()


def test_dismissed_flag_leaves_both_tickets_and_does_not_come_back(hub, org) -> None:
    first = _open(org.end_user, VPN)
    second = _open(org.end_user, VPN_AGAIN)
    outbox.drain(hub)
    flag_id = _flags(org.agent, second)[0]["id"]
    resp = org.end_user.post(f"/api/v1/support/tickets/{second}/duplicates/{flag_id}/dismiss/")
    assert resp.status_code == 403
    resp = org.agent.post(f"/api/v1/support/tickets/{second}/duplicates/{flag_id}/dismiss/")
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "dismissed"
    assert resp.json()["decided_by"] == org.agent.user_id
    assert _flags(org.agent, first) == [] and _flags(org.agent, second) == []
    again = org.agent.post(f"/api/v1/support/tickets/{second}/duplicates/{flag_id}/dismiss/")
    assert again.status_code == 409
    with hub.session() as s:
        assert service.check_ticket(s, s.get(Ticket, second)) == []
    audit = org.agent.get(f"/api/v1/support/tickets/{first}/audit/").json()
    assert "Duplicate Dismissed" in [a["action"] for a in audit]


def test_merge_from_the_flag_merges_this_ticket_into_the_other(hub, org) -> None:
    first = _open(org.end_user, VPN)
    second = _open(org.end_user, VPN_AGAIN)
    outbox.drain(hub)
    flag_id = _flags(org.agent, second)[0]["id"]
    resp = org.agent.post(f"/api/v1/support/tickets/{second}/duplicates/{flag_id}/merge/")
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == first
    with hub.session() as s:
        assert s.get(Ticket, second).merged_into_id == first
        assert s.get(Ticket, second).status == "Closed"
        assert s.get(DuplicateFlag, flag_id).status == "merged"
    assert _flags(org.agent, first) == []
    # A flag of another ticket cannot be used through this one.
    assert (
        org.agent.post(f"/api/v1/support/tickets/{first}/duplicates/999999/merge/").status_code
        == 404
    )


def test_other_tenants_closed_and_old_tickets_are_never_candidates(
    hub, org, other_org, make_member
) -> None:  # type: ignore[no-untyped-def]
    # Another tenant's identical ticket.
    _open(other_org.end_user, VPN)
    # A closed one of the same requester.
    closed = _open(org.end_user, VPN)
    assert (
        org.agent.patch(f"/api/v1/support/tickets/{closed}/", json={"status": "Closed"}).status_code
        == 200
    )
    # An open one from 15 days ago (the window is 14 days).
    past = datetime.now(UTC) - timedelta(days=15)
    clock.set_clock(lambda: past)
    try:
        old = _open(org.end_user, VPN)
    finally:
        clock.set_clock(None)
    # Another requester's identical ticket (organisations come later).
    someone = make_member(org.tenant, "end_user")
    _open(someone, VPN)
    new = _open(org.end_user, VPN_AGAIN)
    outbox.drain(hub)
    assert _flags(org.agent, new) == []
    assert other_org.agent.get(f"/api/v1/support/tickets/{new}/duplicates/").status_code == 404
    # A longer window takes the old one in.
    resp = org.admin.put("/api/v1/admin/duplicates/", json={"enabled": True, "window_days": 30})
    assert resp.status_code == 200, resp.text
    with hub.session() as s:
        flags = service.check_ticket(s, s.get(Ticket, new))
        assert [f.first_ticket_id for f in flags] == [old]


def test_settings_are_admin_only_validated_and_audited(hub, org) -> None:
    assert org.admin.get("/api/v1/admin/duplicates/").json() == {
        "enabled": True,
        "window_days": 14,
    }
    assert org.agent.get("/api/v1/admin/duplicates/").status_code == 403
    bad = org.admin.put("/api/v1/admin/duplicates/", json={"enabled": True, "window_days": 0})
    assert bad.status_code == 422 and "window_days" in bad.text
    off = org.admin.put("/api/v1/admin/duplicates/", json={"enabled": False, "window_days": 7})
    assert off.json() == {"enabled": False, "window_days": 7}
    _open(org.end_user, VPN)
    second = _open(org.end_user, VPN_AGAIN)
    outbox.drain(hub)
    assert _flags(org.agent, second) == []
    log = org.admin.get("/api/v1/admin/audit/").text
    assert "duplicates.settings" in log


def test_a_colleague_of_the_same_organisation_is_a_candidate_too(hub, org, make_member) -> None:  # type: ignore[no-untyped-def]
    """Two people of one customer company (joined by its mail domain) report the same outage:
    flagged, 'same organisation'; a person of another company with the same words is not."""
    r = org.admin.post(
        "/api/v1/support/organisations/", json={"name": "Acme", "domains": ["acme-corp.test"]}
    )
    assert r.status_code == 201, r.text
    ana = make_member(org.tenant, "end_user", email="ana@acme-corp.test")
    bo = make_member(org.tenant, "end_user", email="bo@acme-corp.test")
    stranger = make_member(org.tenant, "end_user", email="cy@elsewhere.test")
    first = _open(ana, VPN)
    theirs = _open(stranger, VPN_AGAIN)
    second = _open(bo, VPN_AGAIN)
    outbox.drain(hub)
    on_second = _flags(org.agent, second)
    assert [f["other_ticket_id"] for f in on_second] == [first]
    assert on_second[0]["reason"].startswith("same organisation")
    assert [f["other_ticket_id"] for f in _flags(org.agent, theirs)] == []
