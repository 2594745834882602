"""The chat's rating prompt: a resolved ticket's chat gets the one-click ratings, as the
resolution mail does."""

from __future__ import annotations

from core.api import HubContext, TicketEvent, events
from plugins.chatbot import store
from plugins.chatbot.live import listeners


def resolved(event: TicketEvent) -> bool:
    """Whether the event set the ticket to Resolved."""
    changes = event.payload.get("changes") or {}
    return event.type == events.TICKET_UPDATED and (changes.get("status") or [None, None])[1] == (
        "Resolved"
    )


def prompt(event: TicketEvent, hub: HubContext) -> None:
    """A resolved ticket's chat gets the one-click ratings (``HubContext.rating_links``), shown
    by the widget as links, as the resolution mail does; idempotent per outbox event."""
    ticket = event.ticket
    assert ticket is not None
    links = hub.rating_links(event.tenant_id, ticket.id, ticket.requester.email)
    if not links:
        return
    woken: list[int] = []
    with hub.session() as s:
        for chat in store.sessions_for_ticket(s, event.tenant_id, ticket.id):
            if store.has_event(s, chat.id, event.id):
                continue
            store.add_message(
                s,
                chat,
                "bot",
                f"Your ticket #{ticket.id} is resolved. How did we do? One click rates our help:",
                data={"articles": [{"title": x["label"], "url": x["url"]} for x in links]},
                event_id=event.id,
            )
            woken.append(chat.id)
    for chat_id in woken:
        listeners.wake(chat_id)
