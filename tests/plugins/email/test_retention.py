"""Retention of parked mail through ``hub_retention_sweep``: bounded batches, dry run, blobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from core import clock
from hub.context import Hub
from plugins.email.models import ParkedMessage


def _park(hub: Hub, tenant, at: datetime, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    keys = []
    with hub.session() as s:
        for i in range(n):
            key = hub.blob_store.put(f"From: x{i}@example.com\r\n\r\nhi\r\n".encode())
            keys.append(key)
            s.add(
                ParkedMessage(
                    tenant_id=tenant, source="smtp", reason="r", raw_path=key, created_at=at
                )
            )
    return keys


def test_hook_hub_retention_sweep(hub: Hub, org, other_org) -> None:  # type: ignore[no-untyped-def]
    """Fan-out on the tenant's relay: the email plugin owns ``parked_mail`` (other kinds are
    None); a dry run counts all, a batch removes at most ``limit`` rows and their blobs, older
    than ``before`` and of this tenant only."""
    tenant, other = org.tenant[0], other_org.tenant[0]
    for t in (tenant, other):
        hub.set_enabled(t, "email", True, reason="test")
    old = datetime(2026, 1, 1, tzinfo=UTC)
    keys = _park(hub, tenant, old, 3)
    _park(hub, tenant, old + timedelta(days=30), 1)
    _park(hub, other, old, 1)
    clock.set_clock(clock.FrozenClock(old + timedelta(days=31)))
    relay = hub.hooks(tenant)
    before = old + timedelta(days=10)
    args = {"tenant_id": tenant, "before": before, "hub": hub}
    assert relay.hub_retention_sweep(kind="drafts", dry_run=True, limit=0, **args) == []
    assert relay.hub_retention_sweep(kind="parked_mail", dry_run=True, limit=0, **args) == [3]
    assert relay.hub_retention_sweep(kind="parked_mail", dry_run=False, limit=2, **args) == [2]
    assert relay.hub_retention_sweep(kind="parked_mail", dry_run=False, limit=2, **args) == [1]
    assert relay.hub_retention_sweep(kind="parked_mail", dry_run=False, limit=2, **args) == [0]
    for key in keys:
        try:
            hub.blob_store.get(key)
            raise AssertionError("blob kept")
        except FileNotFoundError:
            pass
    with hub.read_session() as s:
        by_tenant = dict(
            s.execute(
                select(ParkedMessage.tenant_id, func.count()).group_by(ParkedMessage.tenant_id)
            ).all()
        )
    assert by_tenant == {tenant: 1, other: 1}
