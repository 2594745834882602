"""Trigger and resolve PagerDuty incidents for tickets; the dedup key is kept as an external ref.

The dedup key is ``<tenant id>:ticket-<ticket id>``: stable for a ticket, so a retry or a second
delivery of the same breach lands on the same incident. The ref's ``meta`` records the state
("triggered" / "resolved") and the events that paged, so nothing is paged twice for one breach
and a resolve is only sent for an open incident.
"""

from __future__ import annotations

import uuid
from typing import Any

from core.api import (
    Escalation,
    EscalationResult,
    HubContext,
    TicketSnapshot,
    find_ref,
    merge_ref_meta,
    now,
)
from plugins.pagerduty import client
from plugins.pagerduty.notes import add_note, audit_failure
from plugins.pagerduty.settings import PagerDutySettings

DEDUP_KIND = "pagerduty_dedup_key"
INCIDENT_KIND = "pagerduty_incident"
TARGET = "pagerduty"
DONE = ("Resolved", "Closed")


def dedup_key(tenant_id: uuid.UUID, ticket_id: int) -> str:
    """The incident key of a ticket: one per tenant and ticket."""
    return f"{tenant_id}:ticket-{ticket_id}"


def concerns(escalation: Escalation, settings: PagerDutySettings) -> bool:
    """A manual "page on-call", or a breach of a ticket whose priority pages."""
    if escalation.target == TARGET:
        return True
    return (
        escalation.target is None
        and escalation.reason == "sla_breach"
        and escalation.ticket.priority in settings.priorities
    )


def ref_state(hub: HubContext, tenant_id: uuid.UUID, key: str) -> dict[str, Any] | None:
    """The stored meta of the ticket's dedup-key ref, or None when it was never paged."""
    with hub.session() as s:
        ref = find_ref(s, tenant_id, DEDUP_KIND, key)
    return ref.meta if ref is not None else None


def set_state(hub: HubContext, ticket: TicketSnapshot, key: str, **changes: Any) -> None:
    """Create the ref if needed and merge ``changes`` into its meta."""
    with hub.session() as s:
        record_state(s, ticket.tenant_id, ticket.id, key, **changes)


def record_state(s: Any, tenant_id: uuid.UUID, ticket_id: int, key: str, **changes: Any) -> None:
    """Same as ``set_state`` inside the caller's transaction."""
    merge_ref_meta(s, tenant_id, ticket_id, DEDUP_KIND, key, changes)


def _summary(escalation: Escalation) -> str:
    ticket = escalation.ticket
    if escalation.reason == "sla_breach":
        target = escalation.details.get("sla_target") or "SLA"
        head = f"Ticket #{ticket.id} ({ticket.priority}) breached its {target} SLA"
    else:
        head = f"Ticket #{ticket.id} ({ticket.priority}) escalated to on-call"
    return f"{head}: {ticket.subject}"[:1024]


def trigger_body(
    hub: HubContext, escalation: Escalation, settings: PagerDutySettings
) -> dict[str, Any]:
    """The ``payload``, ``links`` and client fields of the trigger event."""
    ticket = escalation.ticket
    details: dict[str, Any] = {
        "ticket_id": ticket.id,
        "tenant_id": str(ticket.tenant_id),
        "priority": ticket.priority,
        "status": ticket.status,
        "category": ticket.category,
        "reason": escalation.reason,
        "sla_due_at": ticket.sla_due_at.isoformat() if ticket.sla_due_at else None,
    }
    if escalation.details.get("sla_target"):
        details["sla_target"] = escalation.details["sla_target"]
    if escalation.details.get("note"):
        details["note"] = str(escalation.details["note"])[:2000]
    return {
        "payload": {
            "summary": _summary(escalation),
            "source": hub.base_url,
            "severity": settings.severity,
            "timestamp": now().isoformat(),
            "component": "support-hub",
            "group": str(ticket.tenant_id),
            "class": escalation.reason,
            "custom_details": details,
        },
        "links": [{"href": ticket.url, "text": f"Ticket #{ticket.id}"}],
        "client": "Teleops Support Hub",
        "client_url": ticket.url,
    }


def page(
    hub: HubContext, escalation: Escalation, settings: PagerDutySettings
) -> EscalationResult | None:
    """Trigger the incident unless this ticket's incident is already open or this event paged."""
    ticket = escalation.ticket
    key = dedup_key(ticket.tenant_id, ticket.id)
    state = ref_state(hub, ticket.tenant_id, key) or {}
    if escalation.event_id in state.get("events", []):
        return None
    if state.get("status") == "triggered":
        if escalation.target == TARGET:
            # An agent asked: say why nothing new was sent rather than staying silent.
            with hub.session() as s:
                add_note(
                    s,
                    ticket.tenant_id,
                    ticket.id,
                    "On-call was not paged again: this ticket's PagerDuty incident "
                    f"({key}) is still open.",
                )
                record_state(
                    s,
                    ticket.tenant_id,
                    ticket.id,
                    key,
                    events=[*state.get("events", []), escalation.event_id],
                )
            hub.kick()
        return None
    try:
        client.send(
            settings, "trigger", key, egress=hub.egress, **trigger_body(hub, escalation, settings)
        )
    except client.Rejected as exc:
        with hub.session() as s:
            add_note(
                s,
                ticket.tenant_id,
                ticket.id,
                f"PagerDuty did not accept the page for this ticket: {exc.message}",
            )
            audit_failure(
                s,
                ticket.tenant_id,
                ticket.id,
                "pagerduty",
                {"status": exc.status, "message": exc.message, "event_id": escalation.event_id},
            )
        hub.kick()
        return None
    set_state(
        hub,
        ticket,
        key,
        status="triggered",
        triggered_at=now().isoformat(),
        events=[*state.get("events", []), escalation.event_id],
    )
    return EscalationResult(plugin=TARGET, reference=key, message="on-call paged")


def resolve(hub: HubContext, ticket: TicketSnapshot, settings: PagerDutySettings) -> int:
    """Resolve the ticket's open incidents; returns how many were resolved.

    Usually one; a ticket that others were merged into also holds their dedup keys.
    """
    resolved = 0
    for key in ticket.refs.get(DEDUP_KIND, []):
        state = ref_state(hub, ticket.tenant_id, key)
        if not state or state.get("status") != "triggered":
            continue
        try:
            client.send(settings, "resolve", key, egress=hub.egress)
        except client.Rejected as exc:
            with hub.session() as s:
                add_note(
                    s,
                    ticket.tenant_id,
                    ticket.id,
                    f"PagerDuty did not accept the resolve of {key}: {exc.message}",
                )
                audit_failure(
                    s,
                    ticket.tenant_id,
                    ticket.id,
                    "pagerduty-resolve",
                    {"status": exc.status, "message": exc.message},
                )
                record_state(s, ticket.tenant_id, ticket.id, key, status="resolve_rejected")
            hub.kick()
            continue
        set_state(hub, ticket, key, status="resolved", resolved_at=now().isoformat())
        resolved += 1
    return resolved


def status_became_done(payload: dict[str, Any]) -> bool:
    """Whether a ``ticket.updated`` payload moved the ticket to Resolved or Closed."""
    change = (payload.get("changes") or {}).get("status")
    return isinstance(change, list) and len(change) == 2 and change[1] in DONE
