"""Built-in escalation: an SLA breach or escalation notifies the tenant's admins in the app."""

from __future__ import annotations

from sqlalchemy import select

from core.api import (
    ADMIN,
    Capability,
    Escalation,
    EscalationResult,
    HubContext,
    PluginInfo,
    hookimpl,
    now,
)
from core.models import Membership, Notification


@hookimpl
def hub_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="admin-escalation",
        title="Escalate to admins",
        description="SLA breaches and escalations notify the tenant's admins.",
        capabilities=(Capability.ESCALATE,),
    )


@hookimpl(trylast=True)
def hub_escalate(escalation: Escalation, hub: HubContext) -> EscalationResult | None:
    """Spec section 16: an SLA breach 'sends escalation to admin'."""
    if escalation.target not in (None, "admin"):
        return None
    ticket = escalation.ticket
    what = (
        escalation.details.get("sla_target", "SLA")
        if escalation.reason == "sla_breach"
        else "manual"
    )
    text = (
        f"Ticket #{ticket.id} ({ticket.priority}) breached its {what} target"
        if escalation.reason == "sla_breach"
        else f"Ticket #{ticket.id} was escalated: {escalation.details.get('note', '')}".strip()
    )
    with hub.session() as s:
        admins = s.scalars(
            select(Membership.user_id).where(
                Membership.tenant_id == escalation.tenant_id, Membership.role == ADMIN
            )
        )
        key = f"escalation:{escalation.event_id}"
        for user_id in admins:
            exists = s.scalar(
                select(Notification.id).where(
                    Notification.user_id == user_id, Notification.kind == key
                )
            )
            if exists is None:
                s.add(
                    Notification(
                        tenant_id=escalation.tenant_id,
                        user_id=user_id,
                        ticket_id=ticket.id,
                        kind=key,
                        text=text,
                        created_at=now(),
                    )
                )
    return EscalationResult(plugin="admin-escalation", message="admins notified")
