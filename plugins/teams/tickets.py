"""Reading and changing tickets for the Teams plugin, through core.api only."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from core.api import (
    Actor,
    Changes,
    HubContext,
    Ticket,
    TicketSnapshot,
    User,
    add_comment,
    get_ticket,
    system_actor,
    update_ticket,
)

from .cards import TicketCard


def _label(email: str, name: str) -> str:
    return f"{name} <{email}>" if name else email


def card(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int) -> TicketCard | None:
    """The ticket as the cards show it; None when it is not the tenant's."""
    with hub.session() as s:
        ticket = s.scalar(
            select(Ticket).where(Ticket.id == ticket_id, Ticket.tenant_id == tenant_id)
        )
        if ticket is None:
            return None
        requester = s.get(User, ticket.created_by)
        assignee = s.get(User, ticket.assigned_to) if ticket.assigned_to else None
        return TicketCard(
            id=ticket.id,
            subject=ticket.subject,
            status=ticket.status,
            priority=ticket.priority,
            category=ticket.category,
            requester=_label(requester.email, requester.full_name) if requester else "unknown",
            assignee=_label(assignee.email, assignee.full_name) if assignee else None,
            url=hub.ticket_url(tenant_id, ticket.id),
            channel=ticket.channel,
        )


def requester_email(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int) -> str | None:
    """The email of the ticket's requester."""
    with hub.session() as s:
        return s.scalar(
            select(User.email)
            .join(Ticket, Ticket.created_by == User.id)
            .where(Ticket.id == ticket_id, Ticket.tenant_id == tenant_id)
        )


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
        ticket = s.scalar(
            select(Ticket).where(Ticket.id == ticket_id, Ticket.tenant_id == tenant_id)
        )
        if ticket is not None:
            add_comment(
                s,
                system_actor(tenant_id),
                ticket,
                comment=text,
                is_internal=True,
                channel="teams",
                author_id=ticket.created_by,
            )
