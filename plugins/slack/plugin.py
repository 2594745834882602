"""Slack: hook implementations (thin; the work is in this package's other modules)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from core.api import (
    BackgroundService,
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
from plugins.slack.settings import SECRET_FIELDS, SlackSettings


@hookimpl
def hub_plugin_info() -> PluginInfo:
    """Name, settings model and secret fields of the Slack plugin."""
    return PluginInfo(
        name="slack",
        title="Slack",
        description="Tickets from Slack DMs, mentions and /ticket; agents work from Slack.",
        capabilities=(Capability.INTAKE, Capability.NOTIFY),
        settings_model=SlackSettings,
        secret_fields=SECRET_FIELDS,
        channel_keys=ChannelKeys.setting("team_id", label="Slack workspace"),
        endpoints=(
            Endpoint(
                "Request URL (Event Subscriptions, Interactivity and slash commands)",
                "/plugins/slack/events",
                "Paste it in the Slack app's Event Subscriptions, Interactivity & Shortcuts and "
                "Slash Commands pages (not needed with Socket Mode).",
            ),
        ),
    )


@hookimpl
def hub_configure(hub: HubContext) -> None:
    """The hub's Slack service: tenants' Bolt apps and the listeners' context."""
    from plugins.slack.service import configure

    configure(hub)


@hookimpl
def hub_routes(hub: HubContext) -> Any:
    """``POST /plugins/slack/events``: Slack's one request URL for every tenant."""
    from plugins.slack.routes import build_router

    return build_router(hub)


@hookimpl
def hub_background_services(hub: HubContext) -> list[BackgroundService]:
    """Socket Mode connections for tenants that turned ``socket_mode`` on."""
    from plugins.slack.service import service_for
    from plugins.slack.socket_mode import SocketModeRunner

    runner = SocketModeRunner(service_for(hub))
    return [
        BackgroundService(
            name="slack-socket-mode",
            start=runner.start,
            stop=runner.stop,
            describe="Slack Socket Mode connections (tenants with socket_mode)",
        )
    ]


@hookimpl
def hub_resolve_tenant(channel: str, key: str, hub: HubContext) -> uuid.UUID | None:
    """The tenant whose enabled Slack plugin holds workspace ``key`` (a team id).

    One indexed look-up in the channel-key registry, where a team id belongs to one tenant at
    most (a second tenant naming it is refused on save): nothing may cross tenants."""
    if channel != "slack" or not key:
        return None
    with hub.session() as s:
        return channel_key_owner(s, "slack", key, enabled=True)


@hookimpl
def hub_notify(event: TicketEvent, hub: HubContext) -> None:
    """Public updates into the ticket's Slack thread, the triage card kept current, agents' DMs."""
    from plugins.slack.notify import notify

    notify(event, hub)


@hookimpl
def hub_person_data(tenant_id: uuid.UUID, email: str, hub: HubContext) -> list[PersonRecord]:
    """The person's user links and the references of their tickets."""
    from plugins.slack import person_data

    return person_data.records(hub, tenant_id, email)


@hookimpl
def hub_erase_person(tenant_id: uuid.UUID, email: str, hub: HubContext) -> int:
    """The person's user links and their tickets' message references are removed."""
    from plugins.slack import person_data

    return person_data.erase(hub, tenant_id, email)


@hookimpl
def hub_notify_person(notice: PersonNotice, hub: HubContext) -> bool | None:
    """A DM to the person's linked Slack user, for the notification matrix's chat channel."""
    from plugins.slack.notify import notify_person

    return notify_person(notice, hub)


@hookimpl
def hub_check_connection(
    plugin: str, tenant_id: uuid.UUID, hub: HubContext
) -> ConnectionCheck | None:
    """The admin page's "Test connection" for slack."""
    if plugin != "slack":
        return None
    from plugins.slack.checks import check

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
    """The source's Slack accounts (user links) now belong to the target."""
    return move_person_links(session, tenant_id, "slack", source_email, target_email)
