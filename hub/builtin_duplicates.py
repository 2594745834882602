"""Built-in likely-duplicate detection: on ``ticket.created`` (every channel's tickets pass
through the outbox after their commit), compare the new ticket with its requester's open
tickets and flag similar pairs for an agent (``core.duplicates.service``). Never merges."""

from __future__ import annotations

import logging

from sqlalchemy import select

from core.api import HubContext, PluginInfo, TicketEvent, hookimpl
from core.duplicates.service import check_ticket
from core.models import Ticket
from core.services import events

log = logging.getLogger("hub.duplicates")
NAME = "duplicates"


@hookimpl
def hub_plugin_info() -> PluginInfo:
    """The built-in duplicate detection (always on; a tenant setting turns it off)."""
    return PluginInfo(
        name=NAME,
        title="Likely duplicates",
        description="Flags a new ticket that looks like an open ticket of the same requester.",
    )


@hookimpl
def hub_notify(event: TicketEvent, hub: HubContext) -> None:
    """On a new ticket: look for its likely duplicates (idempotent: a pair is flagged once)."""
    if event.type != events.TICKET_CREATED or event.ticket is None:
        return
    with hub.session() as s:
        ticket = s.scalar(
            select(Ticket).where(Ticket.id == event.ticket.id, Ticket.tenant_id == event.tenant_id)
        )
        if ticket is None:
            return
        flags = check_ticket(s, ticket)
    if flags:
        log.info("ticket %s: %d possible duplicates flagged", event.ticket.id, len(flags))
        hub.kick()
