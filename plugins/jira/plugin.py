"""Jira: hook implementations (thin; the work is in this package's other modules)."""

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
from plugins.jira import escalation as escalation_
from plugins.jira import outbound, routes
from plugins.jira.settings import SECRET_FIELDS, JiraSettings, load


@hookimpl
def hub_plugin_info() -> PluginInfo:
    """Jira issues for escalated tickets, with status and comments synced back."""
    return PluginInfo(
        name="jira",
        title="Jira",
        description="Escalate tickets to Jira issues with two-way status and comment sync.",
        capabilities=(Capability.ESCALATE, Capability.NOTIFY),
        settings_model=JiraSettings,
        secret_fields=SECRET_FIELDS,
        endpoints=(
            Endpoint(
                "Webhook URL",
                "/plugins/jira/webhook",
                "Jira settings > System > WebHooks: events issue updated, comment created; use "
                "the webhook secret set below.",
            ),
        ),
    )


@hookimpl
def hub_routes(hub: HubContext) -> Any:
    """The inbound webhook endpoint."""
    return routes.build_router(hub)


@hookimpl
def hub_escalation_targets(tenant_id: uuid.UUID, hub: HubContext) -> list[EscalationTarget]:
    """ "Create Jira issue" for every tenant that has the plugin on.

    No database access here: the escalate endpoint calls this inside its own write transaction.
    An escalation without a server or project is noted on the ticket as refused.
    """
    return [EscalationTarget(plugin="jira", target=escalation_.TARGET, label="Create Jira issue")]


@hookimpl
def hub_escalate(escalation: Escalation, hub: HubContext) -> EscalationResult | None:
    """Create (once) the Jira issue of a ticket an agent or a rule escalated to ``jira``."""
    if escalation.target != escalation_.TARGET:
        return None
    return escalation_.escalate(hub, escalation, load(hub.config(escalation.tenant_id, "jira")))


@hookimpl
def hub_notify(event: TicketEvent, hub: HubContext) -> None:
    """Post internal notes marked for Jira (``#jira ...``) to the linked issue."""
    if event.type != events.COMMENT_ADDED or event.comment is None:
        return
    if not event.comment.is_internal or event.comment.channel == "jira":
        return
    outbound.post_comment(hub, event, load(hub.config(event.tenant_id, "jira")))


@hookimpl
def hub_person_data(tenant_id: uuid.UUID, email: str, hub: HubContext) -> list[PersonRecord]:
    """The person's user links and the references of their tickets."""
    from plugins.jira import person_data

    return person_data.records(hub, tenant_id, email)


@hookimpl
def hub_erase_person(tenant_id: uuid.UUID, email: str, hub: HubContext) -> int:
    """The person's user links and their tickets' message references are removed."""
    from plugins.jira import person_data

    return person_data.erase(hub, tenant_id, email)


@hookimpl
def hub_check_connection(
    plugin: str, tenant_id: uuid.UUID, hub: HubContext
) -> ConnectionCheck | None:
    """The admin page's "Test connection" for jira."""
    if plugin != "jira":
        return None
    from plugins.jira.checks import check

    return check(hub, tenant_id)
