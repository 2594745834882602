"""Web chatbot: hook implementations (thin; the work is in this package's other modules)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from core.api import (
    Capability,
    Endpoint,
    HubContext,
    PersonRecord,
    PluginInfo,
    TicketEvent,
    events,
    hookimpl,
)
from plugins.chatbot import (
    models,  # noqa: F401 - registers the chat tables
    rating,
    store,
)
from plugins.chatbot.live import listeners
from plugins.chatbot.settings import ChatbotSettings


@hookimpl
def hub_plugin_info() -> PluginInfo:
    """The web chat: an intake channel that answers from the knowledge base first."""
    return PluginInfo(
        name="chatbot",
        title="Web chatbot",
        description="A web chat that answers from the knowledge base and hands over to a human.",
        capabilities=(Capability.INTAKE, Capability.NOTIFY),
        settings_model=ChatbotSettings,
        endpoints=(
            Endpoint(
                "Chat page",
                "/plugins/chatbot/chat",
                "Link to it, or embed /plugins/chatbot/widget.js on your site.",
            ),
        ),
    )


@hookimpl
def hub_routes(hub: HubContext) -> Any:
    """The widget script, the chat and article pages, and the chat websocket."""
    from plugins.chatbot.routes import build_router

    return build_router(hub)


@hookimpl
def hub_notify(event: TicketEvent, hub: HubContext) -> None:
    """An agent's public reply on a ticket that came from a chat appears in that chat.

    Idempotent per outbox event (unique session and event id). Internal notes and the visitor's
    own chat messages (channel ``chatbot``) are not sent back.
    """
    comment, ticket = event.comment, event.ticket
    if ticket is not None and rating.resolved(event):
        rating.prompt(event, hub)
        return
    if event.type != events.COMMENT_ADDED or comment is None or ticket is None:
        return
    if comment.is_internal or comment.channel == "chatbot":
        return
    woken: list[int] = []
    with hub.session() as s:
        for chat in store.sessions_for_ticket(s, event.tenant_id, ticket.id):
            if store.has_event(s, chat.id, event.id):
                continue
            own = comment.author.id == ticket.requester.id
            store.add_message(
                s,
                chat,
                "user" if own else "agent",
                comment.body,
                author="You" if own else (comment.author.name or "Support agent"),
                event_id=event.id,
            )
            woken.append(chat.id)
    for chat_id in woken:
        listeners.wake(chat_id)


@hookimpl
def hub_person_data(tenant_id: uuid.UUID, email: str, hub: HubContext) -> list[PersonRecord]:
    """The person's chat sessions and their transcript lines."""
    with hub.session() as s:
        return store.person_records(s, tenant_id, email)


@hookimpl
def hub_erase_person(tenant_id: uuid.UUID, email: str, hub: HubContext) -> int:
    """The person's chat sessions and transcripts are deleted."""
    with hub.session() as s:
        return store.erase_person(s, tenant_id, email)


@hookimpl
def hub_merge_person(
    session: Session,
    tenant_id: uuid.UUID,
    source_id: int,
    source_email: str,
    target_id: int,
    target_email: str,
    hub: HubContext,
) -> int:
    """The source's chat conversations and transcripts become the target's."""
    return store.move_person(session, tenant_id, source_id, source_email, target_id, target_email)
