"""PagerDuty: hook implementations (thin; the work is in this package's other modules)."""

from __future__ import annotations

import uuid
from typing import Any

from core.api import (
    Capability,
    ConnectionCheck,
    Endpoint,
    Escalation,
    EscalationResult,
    EscalationTarget,
    HubContext,
    PersonRecord,
    PluginInfo,
    TicketEvent,
    events,
    hookimpl,
)
from plugins.pagerduty import paging, routes
from plugins.pagerduty.settings import SECRET_FIELDS, PagerDutySettings, load


@hookimpl
def hub_plugin_info() -> PluginInfo:
    """PagerDuty pages on-call and notes incident changes on tickets."""
    return PluginInfo(
        name="pagerduty",
        title="PagerDuty",
        description="Page on-call on Critical SLA breaches; incident notes on the ticket.",
        capabilities=(Capability.ESCALATE, Capability.NOTIFY),
        settings_model=PagerDutySettings,
        secret_fields=SECRET_FIELDS,
        endpoints=(
            Endpoint(
                "Webhook URL (V3 webhook subscription)",
                "/plugins/pagerduty/webhook",
                "PagerDuty Integrations > Generic Webhooks (v3): incident events; its signing "
                "secret goes in Webhook signing secret below.",
            ),
        ),
    )


@hookimpl
def hub_routes(hub: HubContext) -> Any:
    """The inbound webhook endpoint."""
    return routes.build_router(hub)


@hookimpl
def hub_escalation_targets(tenant_id: uuid.UUID, hub: HubContext) -> list[EscalationTarget]:
    """ "Page on-call" for every tenant that has the plugin on.

    No database access here: the escalate endpoint calls this inside its own write transaction,
    which on SQLite a second session would wait behind. A page without a routing key is noted
    on the ticket as refused.
    """
    return [EscalationTarget(plugin="pagerduty", target=paging.TARGET, label="Page on-call")]


@hookimpl
def hub_escalate(escalation: Escalation, hub: HubContext) -> EscalationResult | None:
    """Trigger an incident on a breach of a paging priority or an agent's "page on-call"."""
    settings = load(hub.config(escalation.tenant_id, "pagerduty"))
    if not paging.concerns(escalation, settings):
        return None
    return paging.page(hub, escalation, settings)


@hookimpl
def hub_notify(event: TicketEvent, hub: HubContext) -> None:
    """Resolve the ticket's incident when the ticket is Resolved or Closed."""
    if event.type != events.TICKET_UPDATED or event.ticket is None:
        return
    if not paging.status_became_done(event.payload):
        return
    if not event.ticket.refs.get(paging.DEDUP_KIND):
        return
    paging.resolve(hub, event.ticket, load(hub.config(event.tenant_id, "pagerduty")))


@hookimpl
def hub_person_data(tenant_id: uuid.UUID, email: str, hub: HubContext) -> list[PersonRecord]:
    """The person's user links and the references of their tickets."""
    from plugins.pagerduty import person_data

    return person_data.records(hub, tenant_id, email)


@hookimpl
def hub_erase_person(tenant_id: uuid.UUID, email: str, hub: HubContext) -> int:
    """The person's user links and their tickets' message references are removed."""
    from plugins.pagerduty import person_data

    return person_data.erase(hub, tenant_id, email)


@hookimpl
def hub_check_connection(
    plugin: str, tenant_id: uuid.UUID, hub: HubContext
) -> ConnectionCheck | None:
    """The admin page's "Test connection" for PagerDuty: a change event (pages nobody) and the
    REST API token's abilities."""
    if plugin != "pagerduty":
        return None
    from plugins.pagerduty.checks import check

    return check(hub, tenant_id)
