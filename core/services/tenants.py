"""Which tenant a request names: ``?tenant=<slug or id>`` on a webhook, a widget's slug."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Tenant

if TYPE_CHECKING:
    from core.types import HubContext


@dataclass(frozen=True)
class TenantRef:
    """A tenant as a plugin names it: id, slug and display name."""

    id: uuid.UUID
    slug: str
    name: str


def find_tenant(session: Session, hint: str) -> TenantRef | None:
    """The tenant ``hint`` names, by id or by slug (case and spaces ignored); None if none."""
    try:
        where = Tenant.id == uuid.UUID(hint)
    except ValueError:
        where = Tenant.slug == hint.strip().lower()
    row = session.execute(select(Tenant.id, Tenant.slug, Tenant.name).where(where)).first()
    return TenantRef(row[0], row[1], row[2]) if row is not None else None


def tenant_id_named(hub: HubContext, hint: str) -> uuid.UUID | None:
    """``find_tenant`` in a session of its own: the ``resolve_hint`` of a webhook receiver."""
    with hub.session() as s:
        found = find_tenant(s, hint)
    return found.id if found is not None else None
