"""Internal notes and failure audits that integrations write on tickets (as a bot user, or as the
system on the requester's behalf)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Ticket
from core.permissions import system_actor
from core.services import events
from core.services.comments import add_comment
from core.services.identity import ensure_user
from core.services.tickets import get_ticket


def add_bot_note(
    session: Session,
    tenant_id: uuid.UUID,
    ticket_id: int,
    text: str,
    *,
    bot_email: str,
    bot_name: str,
    channel: str,
    extra: dict[str, object] | None = None,
) -> int:
    """An internal note authored by an integration's bot user; returns the comment id.

    The bot user belongs to no tenant: it authors notes, it never signs in or gets tickets.
    """
    actor = system_actor(tenant_id)
    ticket = get_ticket(session, actor, ticket_id)
    bot = ensure_user(session, email=bot_email, full_name=bot_name)
    row = add_comment(
        session,
        actor,
        ticket,
        comment=text,
        is_internal=True,
        channel=channel,
        author_id=bot.id,
        extra=extra,
    )
    return row.id


def add_system_note(
    session: Session, tenant_id: uuid.UUID, ticket_id: int, text: str, *, channel: str
) -> int | None:
    """An internal note by the system on the tenant's ticket, authored as its requester (what
    agents should know about a channel's side); returns the comment id, None when the ticket
    is not the tenant's."""
    ticket = session.scalar(
        select(Ticket).where(Ticket.id == ticket_id, Ticket.tenant_id == tenant_id)
    )
    if ticket is None:
        return None
    row = add_comment(
        session,
        system_actor(tenant_id),
        ticket,
        comment=text,
        is_internal=True,
        channel=channel,
        author_id=ticket.created_by,
    )
    return row.id


def audit_escalation_failure(
    session: Session,
    tenant_id: uuid.UUID,
    ticket_id: int,
    *,
    plugin: str,
    what: str,
    details: dict[str, Any],
) -> None:
    """Record that an outside service refused an escalation (never with a secret in it)."""
    events.audit(
        session,
        system_actor(tenant_id),
        action="Escalation Failed",
        ticket_id=ticket_id,
        new=what,
        details={"plugin": plugin, **details},
    )
