"""An example channel in four files: signed JSON in, agents' replies POSTed back out.

It uses only ``core.api``: ``receive_signed`` finds the tenant whose secret signs a request,
``HubContext.ingest`` threads and stores the message (the conversation id is its reference),
``ticket_refs`` finds the conversation of a ticket, and ``hub.egress`` checks the callback.
"""

from __future__ import annotations

from typing import Any

import httpx

from core.api import (
    Capability,
    HubContext,
    PluginInfo,
    TicketEvent,
    hookimpl,
    ticket_refs,
)


@hookimpl
def hub_plugin_info() -> PluginInfo:
    from hook_channel.settings import SECRET_FIELDS, HookSettings

    return PluginInfo(
        name="hook",
        title="Webhook channel (example)",
        capabilities=(Capability.INTAKE, Capability.NOTIFY),
        settings_model=HookSettings,
        secret_fields=SECRET_FIELDS,
    )


@hookimpl
def hub_routes(hub: HubContext) -> Any:
    from hook_channel.routes import build_router

    return build_router(hub)


@hookimpl
def hub_notify(event: TicketEvent, hub: HubContext) -> None:
    """A public reply by staff on a ticket of this channel goes back to its conversation."""
    from hook_channel.routes import CONVERSATION, PLUGIN
    from hook_channel.settings import load

    comment, ticket = event.comment, event.ticket
    if comment is None or ticket is None or ticket.channel != PLUGIN or comment.is_internal:
        return
    if comment.author.role in (None, "end_user"):
        return  # the customer's own words came from this channel
    settings = load(hub.config(event.tenant_id, PLUGIN))
    if not settings.callback_url:
        return
    with hub.session() as s:
        refs = ticket_refs(s, event.tenant_id, ticket.id, CONVERSATION)
    if not refs:
        return
    with httpx.Client(transport=hub.egress.httpx_transport(), timeout=10, trust_env=False) as http:
        r = http.post(
            settings.callback_url,
            json={"conversation": refs[0].value, "text": comment.body, "ticket": ticket.id},
            headers={"Idempotency-Key": f"hook-{event.id}"},  # the outbox may deliver again
        )
        r.raise_for_status()  # an error: the outbox retries later
