"""``GET /api/v1/support/tickets/?sla_at_risk=true``: the tickets whose running SLA target has
less than the tenant's at-risk share left (frozen clock)."""

from __future__ import annotations

from datetime import UTC, datetime

from core.clock import FrozenClock, set_clock
from tests.conftest import TenantSet

T = "/api/v1/support/tickets/"


def _open(org: TenantSet, priority: str) -> int:
    r = org.end_user.post(
        T, json={"subject": priority, "description": "d", "category": "Other", "priority": priority}
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_only_tickets_at_risk_are_listed(org: TenantSet) -> None:
    clock = FrozenClock(datetime.now(UTC))
    set_clock(clock)
    critical = _open(org, "Critical")  # first response in 60 min
    low = _open(org, "Low")  # first response in 24 h
    clock.advance(minutes=50)  # 10 of 60 min left: under a quarter
    r = org.agent.get(T, params={"sla_at_risk": "true"})
    assert r.status_code == 200, r.text
    assert [t["id"] for t in r.json()["results"]] == [critical]
    everything = {t["id"] for t in org.agent.get(T).json()["results"]}
    assert everything == {critical, low}
    clock.advance(minutes=15)  # due: breached, no longer "at risk"
    assert org.agent.get(T, params={"sla_at_risk": "true"}).json()["results"] == []
    bad = org.agent.get(T, params={"sla_at_risk": "maybe"})
    assert bad.status_code == 422 and "sla_at_risk" in bad.text
