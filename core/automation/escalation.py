"""Escalation requests: the targets a tenant's enabled plugins offer, and asking one of them.

The built-in ``admin`` target (the admin-escalation plugin, always on) is offered to every
tenant, and ``tier`` (the next tier's agent group, core.groups) where there is a higher tier; other targets come from ``hub_escalation_targets`` of the plugins the tenant enabled. A
request is audited and emitted as ``ticket.escalated``; the outbox hands it to the target.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from core.errors import Invalid
from core.groups.service import TIER_TARGET, escalate_to_tier, next_tier
from core.models import OutboxEvent
from core.permissions import Actor, require_staff
from core.services import events
from core.services.tickets import get_ticket
from core.types import HubContext

ADMIN_TARGET = {"plugin": "admin-escalation", "target": "admin", "label": "Escalate to admins"}


def target_names(hub: HubContext, tenant_id: uuid.UUID) -> set[str]:
    """The names of every target the tenant can escalate to, ``admin`` and ``tier`` included."""
    return {
        t.target
        for ts in hub.hooks(tenant_id).hub_escalation_targets(tenant_id=tenant_id, hub=hub)
        for t in ts or ()
    } | {ADMIN_TARGET["target"], TIER_TARGET}


def offered_targets(
    session: Session, hub: HubContext, actor: Actor, ticket_id: int
) -> list[dict[str, str]]:
    """The escalation actions offered for one ticket (staff only), the admins first."""
    ticket = get_ticket(session, actor, ticket_id)
    require_staff(actor, "escalate tickets")
    found = [dict(ADMIN_TARGET)]
    tier = next_tier(session, actor.tenant_id, ticket.group_id)
    if tier is not None:
        label = f"Escalate to tier {tier.tier}: {tier.name}"
        found.append({"plugin": "groups", "target": TIER_TARGET, "label": label})
    for targets in hub.hooks(actor.tenant_id).hub_escalation_targets(
        tenant_id=actor.tenant_id, hub=hub
    ):
        found += [{"plugin": t.plugin, "target": t.target, "label": t.label} for t in targets]
    return found


def request_escalation(
    session: Session, hub: HubContext, actor: Actor, ticket_id: int, *, target: str, note: str
) -> OutboxEvent:
    """Audit and emit one escalation of a ticket to an offered target; the caller commits."""
    ticket = get_ticket(session, actor, ticket_id)
    require_staff(actor, "escalate tickets")
    targets = target_names(hub, actor.tenant_id)
    if target not in targets:
        raise Invalid(
            f"unknown escalation target; available: {', '.join(sorted(targets))}", field="target"
        )
    if target == TIER_TARGET:
        return escalate_to_tier(session, actor, ticket, note=note)[1]
    events.audit(
        session,
        actor,
        action="Escalation Requested",
        ticket_id=ticket.id,
        new=target,
        details={"note": note} if note else None,
    )
    return events.emit(
        session,
        actor,
        events.TICKET_ESCALATED,
        tenant_id=actor.tenant_id,
        ticket_id=ticket.id,
        payload={"target": target, "note": note},
    )


def check_rule_targets(
    hub: HubContext, tenant_id: uuid.UUID, actions: list[dict[str, Any]]
) -> None:
    """Every ``escalate`` action of a rule names a target the tenant is offered."""
    wanted = {a["target"] for a in actions if a.get("type") == "escalate"}
    if not wanted:
        return
    offered = target_names(hub, tenant_id)
    unknown = sorted(wanted - offered)
    if unknown:
        raise Invalid(
            f"unknown escalation target {', '.join(unknown)}; available: "
            f"{', '.join(sorted(offered))}",
            field="actions",
        )
