"""Failing addresses per tenant: a bounce marks an address for the tenant that received it; a
later message from the address to that tenant, or an admin, clears it."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.api import now
from plugins.email.models import FailingAddress


def failing(session: Session, tenant_id: uuid.UUID, addresses: Collection[str]) -> set[str]:
    """Those of ``addresses`` that bounced for this tenant."""
    wanted = {a.lower() for a in addresses}
    if not wanted:
        return set()
    return set(
        session.scalars(
            select(FailingAddress.address).where(
                FailingAddress.tenant_id == tenant_id, FailingAddress.address.in_(wanted)
            )
        )
    )


def mark(session: Session, tenant_id: uuid.UUID, addresses: Collection[str]) -> list[str]:
    """Mark addresses as failing for the tenant (counted again when already marked)."""
    marked = sorted({a.strip().lower() for a in addresses if "@" in a})
    if not marked:
        return []
    rows = {
        r.address: r
        for r in session.scalars(
            select(FailingAddress).where(
                FailingAddress.tenant_id == tenant_id, FailingAddress.address.in_(marked)
            )
        )
    }
    for address in marked:
        row = rows.get(address)
        if row is None:
            session.add(FailingAddress(tenant_id=tenant_id, address=address, last_bounce_at=now()))
        else:
            row.bounces += 1
            row.last_bounce_at = now()
    return marked


def clear(session: Session, tenant_id: uuid.UUID, address: str) -> bool:
    """Mail reaches the address again (it wrote to us, or an admin says so)."""
    result = session.execute(
        delete(FailingAddress).where(
            FailingAddress.tenant_id == tenant_id, FailingAddress.address == address.strip().lower()
        )
    )
    return bool(getattr(result, "rowcount", 0))
