"""The status machine of spec section 3, through PATCH, for each role."""

from __future__ import annotations

import pytest

from core.lifecycle import STATUSES, TRANSITIONS
from tests.conftest import TenantSet

T = "/api/v1/support/tickets/"
NEW = {"subject": "Printer on fire", "description": "It is on fire.", "category": "Other"}


def _ticket_in(org: TenantSet, status: str, hub) -> int:  # type: ignore[no-untyped-def]
    """A ticket moved into ``status`` directly in the database (the set-up, not the test)."""
    from core.models import Ticket

    tid = org.end_user.post(T, json=NEW).json()["id"]
    with hub.session() as s:
        s.get(Ticket, tid).status = status
    return tid


@pytest.mark.parametrize(
    ("current", "target"), [(a, b) for a in STATUSES for b in STATUSES if a != b]
)
def test_agent_transition_table(org: TenantSet, hub, current: str, target: str) -> None:  # type: ignore[no-untyped-def]
    tid = _ticket_in(org, current, hub)
    r = org.agent.patch(f"{T}{tid}/", json={"status": target})
    if target in TRANSITIONS[current]:
        assert r.status_code == 200, r.text
        assert r.json()["status"] == target
    else:
        assert r.status_code == 422, r.text
        assert f"from {current} to {target}" in r.json()["detail"]


def test_closed_at_set_and_cleared(org: TenantSet) -> None:
    tid = org.end_user.post(T, json=NEW).json()["id"]
    closed = org.agent.patch(f"{T}{tid}/", json={"status": "Closed"}).json()
    assert closed["closed_at"] is not None
    reopened = org.end_user.patch(f"{T}{tid}/", json={"status": "Reopened"}).json()
    assert reopened["status"] == "Reopened"
    assert reopened["closed_at"] is None


@pytest.mark.parametrize("done", ["Resolved", "Closed"])
def test_owner_reopens_finished_ticket(org: TenantSet, done: str) -> None:
    tid = org.end_user.post(T, json=NEW).json()["id"]
    org.agent.patch(f"{T}{tid}/", json={"status": done})
    r = org.end_user.patch(f"{T}{tid}/", json={"status": "Reopened"})
    assert r.status_code == 200
    assert r.json()["status"] == "Reopened"


def test_owner_cannot_change_status_otherwise(org: TenantSet) -> None:
    tid = org.end_user.post(T, json=NEW).json()["id"]
    r = org.end_user.patch(f"{T}{tid}/", json={"status": "Resolved"})
    assert r.status_code == 403
    r = org.end_user.patch(f"{T}{tid}/", json={"priority": "Critical"})
    assert r.status_code == 403
    r = org.end_user.patch(f"{T}{tid}/", json={"assigned_to": org.agent.user_id})
    assert r.status_code == 403


def test_manager_changes_nothing(org: TenantSet) -> None:
    tid = org.end_user.post(T, json=NEW).json()["id"]
    assert org.manager.get(f"{T}{tid}/").status_code == 200
    assert org.manager.patch(f"{T}{tid}/", json={"status": "Open"}).status_code == 403
    assert org.manager.post(f"{T}{tid}/comment/", json={"comment": "hi"}).status_code == 403
    assert org.manager.post(T, json=NEW).status_code == 403


def test_assignment_opens_a_new_ticket(org: TenantSet) -> None:
    tid = org.end_user.post(T, json=NEW).json()["id"]
    r = org.agent.patch(f"{T}{tid}/", json={"assigned_to": org.agent.user_id})
    assert r.json()["status"] == "Open"
    assert r.json()["assigned_to"] == org.agent.user_id
    r = org.agent.patch(f"{T}{tid}/", json={"assigned_to": org.end_user.user_id})
    assert r.status_code == 422


def test_requester_reply_reopens_resolved_and_ends_pending(org: TenantSet) -> None:
    tid = org.end_user.post(T, json=NEW).json()["id"]
    org.agent.patch(f"{T}{tid}/", json={"status": "Pending"})
    org.end_user.post(f"{T}{tid}/comment/", json={"comment": "here is the info"})
    assert org.agent.get(f"{T}{tid}/").json()["status"] == "Open"
    org.agent.patch(f"{T}{tid}/", json={"status": "Resolved"})
    org.end_user.post(f"{T}{tid}/comment/", json={"comment": "still broken"})
    assert org.agent.get(f"{T}{tid}/").json()["status"] == "Reopened"


def test_csat_only_by_requester_once_done(org: TenantSet) -> None:
    tid = org.end_user.post(T, json=NEW).json()["id"]
    r = org.end_user.patch(f"{T}{tid}/", json={"satisfaction_rating": 5})
    assert r.status_code == 422
    org.agent.patch(f"{T}{tid}/", json={"status": "Resolved"})
    r = org.end_user.patch(f"{T}{tid}/", json={"satisfaction_rating": 4, "feedback": "quick"})
    assert r.status_code == 200
    assert r.json()["satisfaction_rating"] == 4
    assert org.agent.patch(f"{T}{tid}/", json={"satisfaction_rating": 1}).status_code == 403
    assert org.end_user.patch(f"{T}{tid}/", json={"satisfaction_rating": 6}).status_code == 422
