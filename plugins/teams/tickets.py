"""Reading and changing tickets for the Teams plugin, through core.api only."""

from __future__ import annotations

import uuid
from typing import Any

from core.api import (
    Actor,
    Changes,
    HubContext,
    TicketSnapshot,
    add_system_note,
    get_ticket,
    ticket_snapshot,
    update_ticket,
)
from core.api import requester_email as find_requester_email
from plugins.teams.cards import TicketCard


def _label(email: str, name: str) -> str:
    return f"{name} <{email}>" if name else email


def card(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int) -> TicketCard | None:
    """The ticket as the cards show it; None when it is not the tenant's."""
    with hub.session() as s:
        ticket = ticket_snapshot(s, tenant_id, ticket_id, hub.ticket_url(tenant_id, ticket_id))
    return card_of(ticket) if ticket is not None else None


def requester_email(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int) -> str | None:
    """The email of the ticket's requester."""
    with hub.session() as s:
        return find_requester_email(s, tenant_id, ticket_id)


def card_of(t: TicketSnapshot) -> TicketCard:
    """The ticket as the cards show it, from an event's snapshot."""
    return TicketCard(
        id=t.id,
        subject=t.subject,
        status=t.status,
        priority=t.priority,
        category=t.category,
        requester=_label(t.requester.email, t.requester.name),
        assignee=_label(t.assignee.email, t.assignee.name) if t.assignee else None,
        url=t.url,
        channel=t.channel,
    )


def change(hub: HubContext, actor: Actor, ticket_id: int, changes: Changes) -> dict[str, Any]:
    """Apply changes as the actor (role and lifecycle rules apply); kicks outbox delivery."""
    with hub.session() as s:
        ticket = get_ticket(s, actor, ticket_id, for_update=True)
        done = update_ticket(s, actor, ticket, changes)
    if done:
        hub.kick()
    return done


def note(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int, text: str) -> None:
    """An internal note by the system (what agents should know about the Teams side)."""
    with hub.session() as s:
        add_system_note(s, tenant_id, ticket_id, text, channel="teams")
