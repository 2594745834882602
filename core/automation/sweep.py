"""Time-driven automation: auto-close of Resolved tickets, and "no update for N hours" rules.

Both read through indexes and in bounded batches: auto-close through a partial index on
``resolved_at`` of Resolved tickets, time rules through ``(tenant_id, updated_at, id)`` from a
keyset watermark kept on the rule, so each quiet period of a ticket is looked at once. Every
action first claims its occasion (``support_automation_runs``), so overlapping runs act once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from core.automation import rules
from core.clock import now
from core.models import AutomationRule, AutomationSettings, Ticket
from core.permissions import system_actor
from core.services.once import claim

DEFAULT_AUTO_CLOSE_HOURS = 48.0
AUTO_CLOSE = "builtin:auto-close"


@dataclass
class AutomationResult:
    """Tickets closed and (rule, ticket) pairs fired by one run."""

    closed: list[int] = field(default_factory=list)
    fired: list[tuple[int, int]] = field(default_factory=list)  # (rule id, ticket id)


def _close_groups(session: Session) -> list[tuple[float, list[uuid.UUID] | None, list[uuid.UUID]]]:
    """(hours, tenants or None for "every other tenant", excluded tenants) per auto-close setting."""
    custom: dict[float | None, list[uuid.UUID]] = {}
    for tenant_id, hours in session.execute(
        select(AutomationSettings.tenant_id, AutomationSettings.auto_close_hours)
    ):
        key = hours if hours and hours > 0 else None
        if key == DEFAULT_AUTO_CLOSE_HOURS:
            continue
        custom.setdefault(key, []).append(tenant_id)
    not_default = [t for ids in custom.values() for t in ids]
    groups: list[tuple[float, list[uuid.UUID] | None, list[uuid.UUID]]] = [
        (DEFAULT_AUTO_CLOSE_HOURS, None, not_default)
    ]
    groups += [(hours, ids, []) for hours, ids in custom.items() if hours is not None]
    return groups


def auto_close(session: Session, *, at: datetime | None = None, batch: int = 500) -> list[int]:
    """Close Resolved tickets whose requester has not answered for the tenant's hours (48 h)."""
    from core.services.tickets import Changes, update_ticket

    at = at or now()
    closed: list[int] = []
    for hours, tenants, excluded in _close_groups(session):
        stmt = select(Ticket).where(
            Ticket.status == "Resolved", Ticket.resolved_at <= at - timedelta(hours=hours)
        )
        if tenants is not None:
            stmt = stmt.where(Ticket.tenant_id.in_(tenants))
        elif excluded:
            stmt = stmt.where(Ticket.tenant_id.not_in(excluded))
        for ticket in session.scalars(stmt.order_by(Ticket.resolved_at).limit(batch)):
            assert ticket.resolved_at is not None
            if not claim(
                session,
                ticket.tenant_id,
                ticket.id,
                f"auto-close:{ticket.id}:{ticket.resolved_at.isoformat()}",
            ):
                continue
            with rules.running(AUTO_CLOSE):
                update_ticket(
                    session,
                    system_actor(ticket.tenant_id),
                    ticket,
                    Changes(
                        status="Closed",
                        reason=f"auto-closed: no reply from the requester in {hours:g} h",
                        extra={"rule_id": AUTO_CLOSE, "rule": "auto-close"},
                    ),
                )
            rules._audit(
                session,
                ticket,
                AUTO_CLOSE,
                "auto-close",
                {"type": "set_status", "value": "Closed", "hours": hours},
                None,
            )
            closed.append(ticket.id)
    return closed


def time_rules(
    session: Session, *, at: datetime | None = None, batch: int = 500
) -> list[tuple[int, int]]:
    """Fire each active ``time.no_update`` rule on tickets quiet for its hours, once per quiet period."""
    at = at or now()
    fired: list[tuple[int, int]] = []
    active = list(
        session.scalars(
            select(AutomationRule)
            .where(AutomationRule.trigger == "time.no_update", AutomationRule.is_active.is_(True))
            .order_by(AutomationRule.id)
        )
    )
    for rule in active:
        cutoff = at - timedelta(hours=rule.hours or 0)
        stmt = select(Ticket).where(
            Ticket.tenant_id == rule.tenant_id,
            Ticket.updated_at <= cutoff,
            Ticket.status != "Closed",
        )
        if rule.swept_until is not None:
            stmt = stmt.where(
                or_(
                    Ticket.updated_at > rule.swept_until,
                    and_(Ticket.updated_at == rule.swept_until, Ticket.id > (rule.swept_id or 0)),
                )
            )
        tickets = list(session.scalars(stmt.order_by(Ticket.updated_at, Ticket.id).limit(batch)))
        tags = None
        if any(c.get("field") == "tags" for c in rule.conditions or []):
            from core.tags.service import tags_for

            tags = tags_for(session, [t.id for t in tickets])  # one query per batch
        for ticket in tickets:
            quiet_since = ticket.updated_at
            rule.swept_until, rule.swept_id = quiet_since, ticket.id
            if not rules.matches(rule.conditions or [], ticket, tags=tags):
                continue
            if not claim(
                session,
                rule.tenant_id,
                ticket.id,
                f"time:{rule.id}:{ticket.id}:{quiet_since.isoformat()}",
            ):
                continue
            if not rules.try_actions(
                session, ticket, rule.actions or [], rule_key=rule.id, rule_name=rule.name
            ):
                continue
            fired.append((rule.id, ticket.id))
            if ticket.updated_at != quiet_since:
                # The rule's own change starts a new quiet period: claim it, so the rule never
                # fires again because of what it did itself.
                claim(
                    session,
                    rule.tenant_id,
                    ticket.id,
                    f"time:{rule.id}:{ticket.id}:{ticket.updated_at.isoformat()}",
                )
    return fired


def run(session: Session, *, at: datetime | None = None) -> AutomationResult:
    """Both time-driven automations in one transaction."""
    at = at or now()
    return AutomationResult(closed=auto_close(session, at=at), fired=time_rules(session, at=at))
