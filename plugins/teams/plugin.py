"""Microsoft Teams: hook implementations (thin; the work is in this package's other modules)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from core.api import (
    Capability,
    ChannelKeys,
    ConnectionCheck,
    Endpoint,
    HubContext,
    PersonNotice,
    PersonRecord,
    PluginInfo,
    TicketEvent,
    channel_key_owner,
    hookimpl,
    move_person_links,
)
from plugins.teams.settings import SECRET_FIELDS, TeamsSettings

PLUGIN = "teams"


@hookimpl
def hub_plugin_info() -> PluginInfo:
    """Name, settings model and secret fields of the Teams plugin."""
    return PluginInfo(
        name="teams",
        title="Microsoft Teams",
        description="Tickets from Teams messages; Adaptive Card updates.",
        capabilities=(Capability.INTAKE, Capability.NOTIFY),
        settings_model=TeamsSettings,
        secret_fields=SECRET_FIELDS,
        channel_keys=ChannelKeys.setting("app_id", label="Teams app id"),
        endpoints=(
            Endpoint(
                "Messaging endpoint",
                "/plugins/teams/messages",
                "The Azure Bot resource's Configuration > Messaging endpoint.",
            ),
            Endpoint(
                "Outgoing webhook callback URL",
                "/plugins/teams/webhook",
                "For a Teams outgoing webhook instead of a bot.",
            ),
        ),
    )


@hookimpl
def hub_routes(hub: HubContext) -> Any:
    """``POST /plugins/teams/messages`` (Bot Framework) and ``/webhook`` (outgoing webhook)."""
    from plugins.teams.routes import build_router

    return build_router(hub)


@hookimpl
def hub_resolve_tenant(channel: str, key: str, hub: HubContext) -> uuid.UUID | None:
    """The tenant whose enabled Teams plugin holds bot app id ``key``: one indexed look-up in
    the channel-key registry, where an app id belongs to one tenant at most."""
    if channel != PLUGIN or not key:
        return None
    with hub.session() as s:
        return channel_key_owner(s, PLUGIN, key, enabled=True)


@hookimpl
def hub_notify(event: TicketEvent, hub: HubContext) -> None:
    """Acknowledgements, public replies and status cards into the ticket's Teams conversation;
    the triage card posted and kept current. Never internal notes."""
    from plugins.teams.notify import notify

    notify(event, hub)


@hookimpl
def hub_person_data(tenant_id: uuid.UUID, email: str, hub: HubContext) -> list[PersonRecord]:
    """The person's user links and the references of their tickets."""
    from plugins.teams import person_data

    return person_data.records(hub, tenant_id, email)


@hookimpl
def hub_erase_person(tenant_id: uuid.UUID, email: str, hub: HubContext) -> int:
    """The person's user links and their tickets' message references are removed."""
    from plugins.teams import person_data

    return person_data.erase(hub, tenant_id, email)


@hookimpl
def hub_notify_person(notice: PersonNotice, hub: HubContext) -> bool | None:
    """A message in the person's 1:1 chat with the bot, for the notification matrix."""
    from plugins.teams.notify import notify_person

    return notify_person(notice, hub)


@hookimpl
def hub_check_connection(
    plugin: str, tenant_id: uuid.UUID, hub: HubContext
) -> ConnectionCheck | None:
    """The admin page's "Test connection" for teams."""
    if plugin != "teams":
        return None
    from plugins.teams.checks import check

    return check(hub, tenant_id)


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
    """The source's Teams accounts (user links) now belong to the target."""
    return move_person_links(session, tenant_id, "teams", source_email, target_email)
