"""Internal notes and audit rows the plugin writes on tickets, authored by a PagerDuty bot user."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from core.api import add_bot_note, audit_escalation_failure

CHANNEL = "pagerduty"
# A user without membership in any tenant: it authors notes, it can never sign in or be assigned.
BOT_EMAIL = "pagerduty-bot@plugins.hub.invalid"


def add_note(session: Session, tenant_id: uuid.UUID, ticket_id: int, text: str) -> int:
    """Add an internal note to the ticket as the PagerDuty bot; returns the comment id."""
    return add_bot_note(
        session,
        tenant_id,
        ticket_id,
        text,
        bot_email=BOT_EMAIL,
        bot_name="PagerDuty",
        channel=CHANNEL,
    )


def audit_failure(
    session: Session, tenant_id: uuid.UUID, ticket_id: int, what: str, details: dict[str, Any]
) -> None:
    """Record that PagerDuty refused a request (never with a secret in it)."""
    audit_escalation_failure(
        session, tenant_id, ticket_id, plugin="pagerduty", what=what, details=details
    )
