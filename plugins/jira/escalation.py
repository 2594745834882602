"""Escalate a ticket to a Jira issue, once: stored ref first, then our label in Jira, then create.

The issue key is kept as the ticket's ``jira_issue`` external ref. The issue carries the label
``hub-<tenant>-ticket-<id>`` and the issue property ``support-hub`` naming the ticket, so a crash
between creating the issue and storing the ref is found again on the retry instead of creating
a second issue.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from core.api import (
    Escalation,
    EscalationResult,
    HubContext,
    NotFound,
    TicketSnapshot,
    add_ticket_ref,
    ticket_refs,
)
from plugins.jira import client
from plugins.jira.notes import add_note, audit_failure
from plugins.jira.settings import JiraSettings

log = logging.getLogger(__name__)
ISSUE_KIND = "jira_issue"
TARGET = "jira"
PROPERTY = "support-hub"


def linked_issue(hub: HubContext, ticket: TicketSnapshot) -> str | None:
    """The Jira key already stored for the ticket."""
    with hub.session() as s:
        refs = ticket_refs(s, ticket.tenant_id, ticket.id, ISSUE_KIND)
    return refs[0].value if refs else None


def issue_fields(ticket: TicketSnapshot, settings: JiraSettings, note: str) -> dict[str, Any]:
    """The fields of the new issue: subject, description with a link back, label, priority."""
    description = f"{ticket.description}\n\n----\nSupport ticket #{ticket.id}: {ticket.url}"
    if note:
        description += f"\nEscalation note: {note}"
    fields: dict[str, Any] = {
        "project": {"key": settings.project_key},
        "issuetype": {"name": settings.issue_type},
        "summary": f"[#{ticket.id}] {ticket.subject}"[:255],
        "description": description,
        "labels": [client.label_for(ticket.tenant_id, ticket.id)],
    }
    priority = settings.priority_map.get(ticket.priority)
    if priority:
        fields["priority"] = {"name": priority}
    return fields


def _store(hub: HubContext, ticket: TicketSnapshot, key: str, settings: JiraSettings) -> None:
    with hub.session() as s:
        meta = {"url": f"{settings.server}/browse/{key}"}
        if not add_ticket_ref(s, ticket.tenant_id, ticket.id, ISSUE_KIND, key, meta):
            raise NotFound(f"ticket {ticket.id} not found")


def remember_identity(hub: HubContext, tenant_id: uuid.UUID, jira: Any) -> None:
    """Keep who our API user is, so webhooks it caused are recognised and ignored."""
    try:
        me = client.call(jira.myself)
    except (client.Rejected, client.Retryable) as exc:
        log.warning("jira: cannot read the API user: %s", exc)
        return
    ids = [str(me[k]) for k in ("accountId", "name", "key", "emailAddress") if me.get(k)]
    hub.save_state(tenant_id, "jira", {"api_user_ids": ids})


def escalate(
    hub: HubContext, escalation: Escalation, settings: JiraSettings
) -> EscalationResult | None:
    """Create the ticket's Jira issue unless it has one; raise ``client.Retryable`` to retry."""
    ticket = escalation.ticket
    existing = linked_issue(hub, ticket)
    if existing:
        return EscalationResult(
            plugin=TARGET,
            reference=existing,
            url=f"{settings.server}/browse/{existing}",
            message="already escalated to Jira",
        )
    try:
        jira = client.connect(settings, hub.egress)
        remember_identity(hub, ticket.tenant_id, jira)
        label = client.label_for(ticket.tenant_id, ticket.id)
        key = client.find_by_label(jira, str(settings.project_key), label)
        if key is None:
            note = str(escalation.details.get("note") or "")
            issue = client.call(
                lambda: jira.create_issue(
                    fields=issue_fields(ticket, settings, note), prefetch=False
                )
            )
            key = str(issue.key)
        _store(hub, ticket, key, settings)
    except client.Rejected as exc:
        with hub.session() as s:
            add_note(
                s, ticket.tenant_id, ticket.id, f"Jira did not accept the escalation: {exc.message}"
            )
            audit_failure(
                s,
                ticket.tenant_id,
                ticket.id,
                "jira",
                {"status": exc.status, "message": exc.message, "event_id": escalation.event_id},
            )
        hub.kick()
        return None
    _set_property(jira, ticket, key)
    return EscalationResult(
        plugin=TARGET,
        reference=key,
        url=f"{settings.server}/browse/{key}",
        message="Jira issue created",
    )


def _set_property(jira: Any, ticket: TicketSnapshot, key: str) -> None:
    """Name the ticket on the issue for Jira-side tooling; the label already ties them."""
    value = {"tenant_id": str(ticket.tenant_id), "ticket_id": ticket.id, "url": ticket.url}
    try:
        client.call(lambda: jira.add_issue_property(key, PROPERTY, value))
    except (client.Rejected, client.Retryable) as exc:
        log.warning("jira: could not set the %s property on %s: %s", PROPERTY, key, exc)
