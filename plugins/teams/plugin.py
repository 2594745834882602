"""Microsoft Teams: hook implementations (thin; the work is in this package's other modules)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import select

from core.api import Capability, HubContext, PluginInfo, TenantPlugin, TicketEvent, hookimpl

from .settings import SECRET_FIELDS, TeamsSettings

log = logging.getLogger("hub.teams")
PLUGIN = "teams"


@hookimpl
def hub_plugin_info() -> PluginInfo:
    """Name, settings model and secret fields of the Teams plugin."""
    return PluginInfo(name="teams", title="Microsoft Teams",
                      description="Tickets from Teams messages; Adaptive Card updates.",
                      capabilities=(Capability.INTAKE, Capability.NOTIFY),
                      settings_model=TeamsSettings, secret_fields=SECRET_FIELDS)


@hookimpl
def hub_routes(hub: HubContext) -> Any:
    """``POST /plugins/teams/messages`` (Bot Framework) and ``/webhook`` (outgoing webhook)."""
    from .routes import make_router

    return make_router(hub)


@hookimpl
def hub_resolve_tenant(channel: str, key: str, hub: HubContext) -> uuid.UUID | None:
    """The tenant whose enabled Teams plugin has bot app id ``key``.

    Plain settings only (nothing decrypted per request). An app id claimed by two tenants
    belongs to neither: nothing may cross tenants."""
    if channel != PLUGIN or not key:
        return None
    with hub.session() as s:
        rows = s.execute(select(TenantPlugin.tenant_id, TenantPlugin.settings).where(
            TenantPlugin.plugin == PLUGIN, TenantPlugin.enabled.is_(True))).all()
    owners = [tid for tid, settings in rows if (settings or {}).get("app_id") == key]
    if len(owners) > 1:
        log.error("Teams app %s is configured by %d tenants; ignoring its requests",
                  key, len(owners))
        return None
    return owners[0] if owners else None


@hookimpl
def hub_notify(event: TicketEvent, hub: HubContext) -> None:
    """Acknowledgements, public replies and status cards into the ticket's Teams conversation;
    the triage card posted and kept current. Never internal notes."""
    from .notify import notify

    notify(event, hub)
