"""Reading and changing tickets for the Slack plugin, through core.api only."""

from __future__ import annotations

import uuid

from core.api import (
    Actor,
    Changes,
    HubContext,
    Person,
    get_ticket,
    ticket_exists,
    ticket_snapshot,
    update_ticket,
)
from core.api import email_of as find_email_of
from core.api import requester_email as find_requester_email
from plugins.slack.blocks import TicketCard


def _label(person: Person) -> str:
    return f"{person.name} <{person.email}>" if person.name else person.email


def card(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int) -> TicketCard | None:
    """The ticket as the cards show it; None when it is not the tenant's."""
    with hub.session() as s:
        ticket = ticket_snapshot(s, tenant_id, ticket_id, hub.ticket_url(tenant_id, ticket_id))
    if ticket is None:
        return None
    return TicketCard(
        id=ticket.id,
        subject=ticket.subject,
        status=ticket.status,
        priority=ticket.priority,
        category=ticket.category,
        requester=_label(ticket.requester),
        assignee=_label(ticket.assignee) if ticket.assignee else None,
        url=ticket.url,
        channel=ticket.channel,
        sla_breached=ticket.sla_breached,
    )


def requester_email(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int) -> str | None:
    """The email of the ticket's requester."""
    with hub.session() as s:
        return find_requester_email(s, tenant_id, ticket_id)


def exists(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int) -> bool:
    """Whether the tenant has this ticket."""
    with hub.session() as s:
        return ticket_exists(s, tenant_id, ticket_id)


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
        return find_email_of(s, user_id)
