"""Reading and changing tickets for the Slack plugin, through core.api only."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from core.api import Actor, Changes, HubContext, Ticket, User, get_ticket, update_ticket

from .blocks import TicketCard


def _label(user: User | None) -> str:
    if user is None:
        return "unknown"
    return f"{user.full_name} <{user.email}>" if user.full_name else user.email


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
            requester=_label(requester),
            assignee=_label(assignee) if assignee else None,
            url=hub.ticket_url(tenant_id, ticket.id),
            channel=ticket.channel,
            sla_breached=ticket.sla_breached,
        )


def requester_email(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int) -> str | None:
    """The email of the ticket's requester."""
    with hub.session() as s:
        return s.scalar(
            select(User.email)
            .join(Ticket, Ticket.created_by == User.id)
            .where(Ticket.id == ticket_id, Ticket.tenant_id == tenant_id)
        )


def exists(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int) -> bool:
    """Whether the tenant has this ticket."""
    with hub.session() as s:
        return (
            s.scalar(select(Ticket.id).where(Ticket.id == ticket_id, Ticket.tenant_id == tenant_id))
            is not None
        )


def change(hub: HubContext, actor: Actor, ticket_id: int, changes: Changes) -> dict:
    """Apply changes as the actor (role and lifecycle rules apply); kicks outbox delivery."""
    with hub.session() as s:
        ticket = get_ticket(s, actor, ticket_id, for_update=True)
        done = update_ticket(s, actor, ticket, changes)
    if done:
        hub.kick()
    return done


def email_of(hub: HubContext, user_id: int) -> str | None:
    """A user's email by id."""
    with hub.session() as s:
        return s.scalar(select(User.email).where(User.id == user_id))
