"""Every hook a plugin can implement, by family. Project name and marker: ``hub``.

Call modes: fan-out (every enabled plugin runs, results come back as a list) unless marked
``firstresult`` (the first non-None answer wins: "who owns this" decisions) or ``historic``
(late-registered plugins still receive the call). Calls that concern a tenant go through that
tenant's relay, which hides the plugins it has not enabled.
"""

from __future__ import annotations

import uuid
from typing import Any

import pluggy
from sqlalchemy.orm import Session

from core.intake import InboundMessage
from core.types import (
    BackgroundService,
    Escalation,
    EscalationResult,
    EscalationTarget,
    HubContext,
    PeriodicTask,
    PluginInfo,
    Suggestion,
    TicketEvent,
)

PROJECT = "hub"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# ------------------------------------------------------------------ app extension


@hookspec
def hub_plugin_info() -> PluginInfo:
    """Describe the plugin: name, capabilities, per-tenant settings model, secret fields.

    Fan-out over every installed plugin (tenant enablement does not apply).
    :return: one PluginInfo; its ``name`` is the entry-point name.
    """


@hookspec(historic=True)
def hub_configure(hub: HubContext) -> None:
    """Called once per process when the hub is ready (historic: late plugins get it too).

    :param hub: the running hub's context, to keep for later calls.
    """


@hookspec
def hub_routes(hub: HubContext) -> Any:
    """HTTP endpoints of the plugin, mounted under ``/plugins/<name>``.

    Fan-out over installed plugins at app start. A plugin's routes must answer 404 for a tenant
    that has not enabled it.
    :param hub: the hub context.
    :return: a FastAPI ``APIRouter`` (or None); the router's ``prefix`` is replaced by the hub.
    """


@hookspec
def hub_periodic_tasks(hub: HubContext) -> list[PeriodicTask]:
    """Work to run on a schedule from Celery beat (IMAP polling, SLA sweeps, ...).

    :param hub: the hub context.
    :return: tasks; each ``run(hub)`` is idempotent and finds its tenants itself.
    """


@hookspec
def hub_background_services(hub: HubContext) -> list[BackgroundService]:
    """Long-running servers the plugin brings (the SMTP listener), started by ``hub run``.

    :param hub: the hub context.
    """


# ------------------------------------------------------------------ intake


@hookspec(firstresult=True)
def hub_resolve_tenant(channel: str, key: str, hub: HubContext) -> uuid.UUID | None:
    """Which tenant owns an inbound address: an email address, a Slack ``team_id``, ...

    firstresult: the plugin that owns the channel answers; others return None. Only tenants
    that have the plugin enabled may be returned.
    :param channel: the channel name ("email", "slack", ...).
    :param key: the channel's address of the tenant.
    """


@hookspec(firstresult=True)
def hub_thread_message(
    session: Session, tenant_id: uuid.UUID, message: InboundMessage
) -> int | None:
    """Which ticket an inbound message continues, by a channel's own rule (e.g. a Slack thread).

    firstresult, on the tenant's relay. The second of core's threading rules
    (``core.intake.threading.RULES``): stored references are tried first, the reply token, the
    channel's ticket hint and the subject token after this hook.
    :param session: the ingest transaction's session (read only).
    :param tenant_id: the receiving tenant; never return another tenant's ticket.
    :param message: the normalised inbound message.
    :return: a ticket id, or None.
    """


# ------------------------------------------------------------------ notification


@hookspec
def hub_notify(event: TicketEvent, hub: HubContext) -> None:
    """A ticket event reaches people through this channel (mail, Slack thread, chat).

    Fan-out on the tenant's relay, from the outbox after commit, at least once: use ``event.id``
    to stay idempotent. Never send internal notes (``event.comment.is_internal``) to end users.
    Raise to have the event retried for this plugin only.
    :param event: the event with ticket and comment snapshots.
    :param hub: the hub context.
    """


# ------------------------------------------------------------------ escalation


@hookspec
def hub_escalate(escalation: Escalation, hub: HubContext) -> EscalationResult | None:
    """Escalate a ticket: an SLA breach, or an agent's request for a named target.

    Fan-out on the tenant's relay from the outbox. A plugin acts when ``escalation.target`` is its
    own name, or when it is None and the breach concerns it (e.g. PagerDuty on Critical). Must be
    idempotent per ticket (dedup keys, stored external refs). Raise to be retried.
    :param escalation: what to escalate and why.
    :param hub: the hub context.
    :return: a result naming the reference created, or None when not concerned.
    """


@hookspec
def hub_escalation_targets(tenant_id: uuid.UUID, hub: HubContext) -> list[EscalationTarget]:
    """Escalation actions this plugin offers agents for the tenant (buttons in the console).

    :param tenant_id: the tenant.
    :param hub: the hub context.
    """


# ------------------------------------------------------------------ knowledge base


@hookspec
def hub_kb_suggest(
    tenant_id: uuid.UUID, text: str, limit: int, audience: str, hub: HubContext
) -> list[Suggestion]:
    """Articles ranked for a text. Fan-out; the hub merges all lists by score.

    The built-in full-text ranker is a ``trylast`` plugin, so another can replace or join it.
    :param tenant_id: the tenant whose articles to search.
    :param text: what the user wrote.
    :param limit: how many at most.
    :param audience: "public" (end users: published public articles) or "agent".
    :param hub: the hub context.
    """
