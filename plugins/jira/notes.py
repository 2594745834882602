"""Internal notes and audit rows the plugin writes on tickets, authored by a Jira bot user."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from core.api import add_comment, ensure_user, events, get_ticket, system_actor

CHANNEL = "jira"
# A user without membership in any tenant: it authors notes, it can never sign in or be assigned.
BOT_EMAIL = "jira-bot@plugins.hub.invalid"


def add_note(session: Session, tenant_id: uuid.UUID, ticket_id: int, text: str,
             extra: dict[str, object] | None = None) -> int:
    """Add an internal note to the ticket as the Jira bot; returns the comment id."""
    actor = system_actor(tenant_id)
    ticket = get_ticket(session, actor, ticket_id)
    bot = ensure_user(session, email=BOT_EMAIL, full_name="Jira")
    row = add_comment(session, actor, ticket, comment=text, is_internal=True, channel=CHANNEL,
                      author_id=bot.id, extra=extra)
    return row.id


def audit_failure(session: Session, tenant_id: uuid.UUID, ticket_id: int, what: str,
                  details: dict[str, Any]) -> None:
    """Record that Jira refused a request (never with a secret in it)."""
    events.audit(session, system_actor(tenant_id), action="Escalation Failed",
                 ticket_id=ticket_id, new=what, details={"plugin": "jira", **details})
