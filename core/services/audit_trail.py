"""Reading the whole audit trail of a tenant: both trails (``tenant``: people and access;
``ticket``: ticket actions and tenant settings such as plugins, SLA, rules and macros), filtered
by actor, action, date range and ticket, paged newest first by id (keyset: O(page)), or streamed
for a CSV export. Admins only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import literal, null, select
from sqlalchemy.orm import Session

from core.models import Audit, TenantAudit, User
from core.permissions import Actor, require_admin

TRAILS = ("tenant", "ticket")
PAGE_SIZE = 50
CSV_COLUMNS = (
    "id", "trail", "created_at", "action", "actor_id", "actor_email", "ip", "target_email",
    "ticket_id", "old_value", "new_value", "details", "seq", "row_hash",
)  # fmt: skip


@dataclass(frozen=True)
class Filters:
    """What to read: one trail (a ticket implies ``ticket``); actor and target by email."""

    trail: str = "tenant"
    actor: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None
    ticket_id: int | None = None

    @property
    def chosen(self) -> str:
        return "ticket" if self.ticket_id is not None else self.trail

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for the next page's address)."""
        values = {
            "trail": self.chosen,
            "actor": self.actor,
            "action": self.action,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "ticket": "" if self.ticket_id is None else str(self.ticket_id),
        }
        return {k: v for k, v in values.items() if v}


def _select(tenant_id: uuid.UUID, f: Filters) -> Any:
    if f.chosen == "ticket":
        a = Audit
        stmt = (
            select(
                a.id,
                literal("ticket").label("trail"),
                a.created_at,
                a.action,
                a.performed_by.label("actor_id"),
                User.email.label("actor_email"),
                literal("").label("ip"),
                literal("").label("target_email"),
                a.ticket_id,
                a.old_value,
                a.new_value,
                a.details,
                a.seq,
                a.row_hash,
            )  # fmt: skip
            .outerjoin(User, User.id == a.performed_by)
            .where(a.tenant_id == tenant_id)
        )
        if f.actor:
            stmt = stmt.where(User.email == f.actor.strip().lower())
        if f.ticket_id is not None:
            stmt = stmt.where(a.ticket_id == f.ticket_id)
        col_id, col_at, col_action = a.id, a.created_at, a.action
    else:
        t = TenantAudit
        stmt = select(
            t.id, literal("tenant").label("trail"), t.created_at, t.action, t.actor_id,
            t.actor_email, t.ip, t.target_email, null().label("ticket_id"),
            null().label("old_value"), null().label("new_value"), t.details, t.seq, t.row_hash,
        ).where(t.tenant_id == tenant_id)  # fmt: skip
        if f.actor:
            stmt = stmt.where(t.actor_email == f.actor.strip().lower())
        col_id, col_at, col_action = t.id, t.created_at, t.action
    if f.action:
        stmt = stmt.where(col_action == f.action.strip())
    if f.since is not None:
        stmt = stmt.where(col_at >= f.since)
    if f.until is not None:
        stmt = stmt.where(col_at < f.until)
    return stmt.order_by(col_id.desc())


def _id_col(f: Filters) -> Any:
    return Audit.id if f.chosen == "ticket" else TenantAudit.id


@dataclass(frozen=True)
class TrailPage:
    """One page, newest first; ``next_before`` continues it (None: the last page)."""

    rows: list[dict[str, Any]]
    next_before: int | None


def page(
    session: Session,
    actor: Actor,
    filters: Filters,
    *,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> TrailPage:
    """A page of the chosen trail, filtered; admins only."""
    require_admin(actor, "read the audit log")
    stmt = _select(actor.tenant_id, filters)
    if before is not None:
        stmt = stmt.where(_id_col(filters) < before)
    rows = [dict(r) for r in session.execute(stmt.limit(limit + 1)).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    return TrailPage(rows, rows[-1]["id"] if more and rows else None)


def stream(session: Session, actor: Actor, filters: Filters, batch: int = 500) -> Iterator[dict]:
    """Every row matching, newest first, read a keyset page at a time (for the CSV export)."""
    before: int | None = None
    while True:
        found = page(session, actor, filters, before=before, limit=batch)
        yield from found.rows
        if found.next_before is None:
            return
        before = found.next_before
