"""Inbound v3 webhooks: find the ticket of the incident, dedupe on the event id, add a note."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.exc import IntegrityError

from core.api import (
    HubContext,
    add_ticket_ref,
    find_ref,
    now,
    record_seen,
    seen,
    ticket_by_ref,
)
from plugins.pagerduty import client
from plugins.pagerduty.notes import add_note
from plugins.pagerduty.paging import DEDUP_KIND, INCIDENT_KIND, record_state
from plugins.pagerduty.payloads import HANDLED_EVENTS, WebhookEvent, note_text
from plugins.pagerduty.settings import PagerDutySettings

log = logging.getLogger(__name__)
CHANNEL = "pagerduty"


def _ticket_by_ref(hub: HubContext, tenant_id: uuid.UUID, kind: str, value: str) -> int | None:
    with hub.session() as s:
        return ticket_by_ref(s, tenant_id, kind, value)


def find_ticket(
    hub: HubContext, tenant_id: uuid.UUID, settings: PagerDutySettings, event: WebhookEvent
) -> tuple[int | None, str | None]:
    """(ticket id, dedup key) of the incident: by incident key, known incident id, or REST."""
    key = event.incident_key
    if key:
        return _ticket_by_ref(hub, tenant_id, DEDUP_KIND, key), key
    if not event.incident_id:
        return None, None
    with hub.session() as s:
        known = find_ref(s, tenant_id, INCIDENT_KIND, event.incident_id)
    if known is not None:
        return known.ticket_id, known.meta.get("dedup_key")
    # The payload names the incident by id only: ask the REST API for its key (needs api_token).
    # ``client.Retryable`` propagates: the route answers 503 and PagerDuty delivers again.
    try:
        key = client.incident_key(settings, event.incident_id, hub.egress)
    except client.Rejected as exc:
        log.warning("pagerduty: cannot look up incident %s: %s", event.incident_id, exc)
        return None, None
    if not key:
        return None, None
    ticket_id = _ticket_by_ref(hub, tenant_id, DEDUP_KIND, key)
    if ticket_id is not None:
        with hub.session() as s:
            add_ticket_ref(
                s, tenant_id, ticket_id, INCIDENT_KIND, event.incident_id, {"dedup_key": key}
            )
    return ticket_id, key


def receive(
    hub: HubContext, tenant_id: uuid.UUID, settings: PagerDutySettings, event: WebhookEvent
) -> str:
    """Handle one verified event; returns what became of it (for the response and the log)."""
    with hub.session() as s:
        if seen(s, tenant_id, CHANNEL, event.id):
            return "duplicate"
    if event.type not in HANDLED_EVENTS:
        log.info("pagerduty: event %s (%s) is not handled", event.id, event.type)
        return "ignored"
    ticket_id, key = find_ticket(hub, tenant_id, settings, event)
    if ticket_id is None:
        log.info("pagerduty: incident %s belongs to no ticket", event.incident_id)
        return "unknown incident"
    try:
        with hub.session() as s:
            note_id = add_note(s, tenant_id, ticket_id, note_text(event))
            record_seen(
                s,
                tenant_id,
                CHANNEL,
                event.id,
                ticket_id=ticket_id,
                comment_id=note_id,
                outcome="note",
            )
            if event.type == "incident.resolved" and key:
                # Resolved in PagerDuty: resolving the ticket later must not resolve it again.
                record_state(
                    s, tenant_id, ticket_id, key, status="resolved", resolved_at=now().isoformat()
                )
    except IntegrityError:
        # A concurrent delivery of the same event won the unique key.
        return "duplicate"
    hub.kick()
    return "noted"
