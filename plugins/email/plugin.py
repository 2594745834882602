"""Email: hook implementations (thin; the work is in this package's other modules)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from core.api import (
    PROOF_MAIL,
    AdminActionResult,
    AdminTable,
    BackgroundService,
    Capability,
    ChannelKeys,
    ConnectionCheck,
    Endpoint,
    HubContext,
    OutboundMail,
    PeriodicTask,
    PersonRecord,
    PluginInfo,
    TicketEvent,
    hookimpl,
)
from plugins.email import (
    models,  # noqa: F401 - registers the plugin's tables
    person_data,
)
from plugins.email.delivery import configure, resolve
from plugins.email.settings import SECRET_FIELDS, EmailSettings, support_addresses


@hookimpl
def hub_plugin_info() -> PluginInfo:
    """Name, capabilities and the per-tenant settings model (two secret fields)."""
    return PluginInfo(
        name="email",
        title="Email",
        description="SMTP and IMAP intake; threaded replies by mail.",
        capabilities=(Capability.INTAKE, Capability.NOTIFY),
        settings_model=EmailSettings,
        secret_fields=SECRET_FIELDS,
        channel_keys=ChannelKeys(of=support_addresses, proof=PROOF_MAIL, label="address"),
        endpoints=(
            Endpoint(
                "SMTP intake",
                smtp=True,
                help="Point the MX record of the support domain (or a forwarding rule) here.",
            ),
        ),
    )


@hookimpl
def hub_configure(hub: HubContext) -> None:
    """The hub's address book (support address -> tenant), kept for the SMTP server."""
    configure(hub)


@hookimpl
def hub_resolve_tenant(channel: str, key: str, hub: HubContext) -> uuid.UUID | None:
    """The tenant whose verified claim holds this address (``+tag`` ignored)."""
    if channel != "email":
        return None
    found = resolve(hub, key)
    return found[0] if found else None


@hookimpl
def hub_background_services(hub: HubContext) -> list[BackgroundService]:
    """The SMTP intake server."""
    from plugins.email.smtp_server import background_service

    return [background_service(hub)]


@hookimpl
def hub_periodic_tasks(hub: HubContext) -> list[PeriodicTask]:
    """IMAP polling of every enabled tenant's mailbox."""
    from plugins.email.imap import periodic_task

    return [periodic_task()]


@hookimpl
def hub_notify(event: TicketEvent, hub: HubContext) -> None:
    """Mail the requester and participants about a ticket event (never internal notes)."""
    from plugins.email.outbound import notify

    notify(event, hub)


@hookimpl
def hub_send_mail(mail: OutboundMail, hub: HubContext) -> str | None:
    """The hub's own mails (invitations, resets, sign-in links) through the tenant's relay."""
    from plugins.email.hub_mail import send_mail

    return send_mail(mail, hub)


@hookimpl
def hub_routes(hub: HubContext) -> Any:
    """Admin endpoints: parked messages and bounces."""
    from plugins.email.routes import build_router

    return build_router(hub)


@hookimpl
def hub_admin_tables(tenant_id: uuid.UUID, hub: HubContext) -> list[AdminTable]:
    """Parked mail, bouncing addresses and bounce reports, for the admin pages."""
    from plugins.email.admin_data import tables

    return tables(hub, tenant_id)


@hookimpl
def hub_admin_action(
    plugin: str,
    tenant_id: uuid.UUID,
    table: str,
    row_id: str,
    action: str,
    actor_id: int,
    hub: HubContext,
) -> AdminActionResult | None:
    """Release or delete a parked message; clear a bouncing address."""
    if plugin != "email":
        return None
    from plugins.email.admin_data import act

    return act(hub, tenant_id, table, row_id, action)


@hookimpl
def hub_person_data(tenant_id: uuid.UUID, email: str, hub: HubContext) -> list[PersonRecord]:
    """Mail sent to the person, bounce reports that named them, mail of theirs parked."""
    with hub.session() as s:
        return person_data.records(s, tenant_id, email) + person_data.parked_records(
            s, hub.blob_store, tenant_id, email
        )


@hookimpl
def hub_erase_person(tenant_id: uuid.UUID, email: str, hub: HubContext) -> int:
    """Sent mail and bounce reports lose the person's address; their parked mail goes."""
    with hub.session() as s:
        return person_data.erase(s, tenant_id, email) + person_data.erase_parked(
            s, hub.blob_store, tenant_id, email
        )


@hookimpl
def hub_retention_sweep(
    tenant_id: uuid.UUID, kind: str, before: datetime, dry_run: bool, limit: int, hub: HubContext
) -> int | None:
    """Parked mail older than the tenant keeps it (rows and raw blobs)."""
    if kind != "parked_mail":
        return None
    with hub.session() as s:
        return person_data.sweep_parked(
            s, hub.blob_store, tenant_id, before, dry_run=dry_run, limit=limit
        )


@hookimpl
def hub_check_connection(
    plugin: str, tenant_id: uuid.UUID, hub: HubContext
) -> ConnectionCheck | None:
    """The admin page's "Test connection" for email."""
    if plugin != "email":
        return None
    from plugins.email.checks import check

    return check(hub, tenant_id)
