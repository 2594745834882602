"""Built-in automation plugin: the SLA sweep, auto-close and time rules on beat, and the
auto-response with knowledge-base articles to new tickets."""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import select

import core.automation.rules
import core.reports.rollups
import core.sla.clock  # noqa: F401 - registers the SLA listener in every process
from core.api import (
    ADMIN,
    AGENT,
    HubContext,
    PeriodicTask,
    PluginInfo,
    Suggestion,
    TicketEvent,
    add_comment,
    hookimpl,
    system_actor,
)
from core.automation import sweep as automation_sweep
from core.models import Ticket
from core.services import events
from core.services.once import claim
from core.sla import sweep as sla_sweep
from core.textcap import search_text

log = logging.getLogger("hub.automation")
NAME = "automation"
SUGGESTIONS = 3


@hookimpl
def hub_plugin_info() -> PluginInfo:
    """The built-in automation plugin (always on)."""
    return PluginInfo(
        name=NAME,
        title="SLA and automation",
        description="SLA sweeps, automation rules, auto-assign, auto-close and "
        "auto-response with knowledge-base articles.",
    )


def run_sla_sweep(hub: HubContext) -> None:
    """Beat task ``sla.sweep``: log and announce warnings and breaches that have come."""
    from hub import metrics

    started = time.perf_counter()
    result = sla_sweep.sweep_all(hub.session)
    metrics.observe_sweep(
        time.perf_counter() - started,
        checked=result.checked,
        warnings=len(result.warnings),
        breaches=len(result.breaches),
    )
    if result.warnings or result.breaches:
        log.info("sla sweep: %d warnings, %d breaches", len(result.warnings), len(result.breaches))
        hub.kick()


def run_time_automation(hub: HubContext) -> None:
    """Beat task ``automation.time``: auto-close and ``time.no_update`` rules."""
    with hub.session() as s:
        result = automation_sweep.run(s)
    if result.closed or result.fired:
        log.info("automation: closed %d, fired %d", len(result.closed), len(result.fired))
        hub.kick()


@hookimpl
def hub_periodic_tasks(hub: HubContext) -> list[PeriodicTask]:
    """The SLA sweep and the time-driven automations, every minute."""
    return [
        PeriodicTask(name="sla.sweep", seconds=60, run=run_sla_sweep),
        PeriodicTask(name="automation.time", seconds=60, run=run_time_automation),
    ]


def _suggest(hub: HubContext, event: TicketEvent) -> list[Suggestion]:
    assert event.ticket is not None
    text = search_text(f"{event.ticket.subject}\n{event.ticket.description}")
    lists = hub.hooks(event.tenant_id).hub_kb_suggest(
        tenant_id=event.tenant_id, text=text, limit=SUGGESTIONS, audience="public", hub=hub
    )
    found = [s for items in lists or [] for s in (items or [])]
    best: dict[Any, Suggestion] = {}
    for item in sorted(found, key=lambda s: s.score, reverse=True):
        best.setdefault((item.source, item.article_id), item)
    return list(best.values())[:SUGGESTIONS]


def _reply_text(items: list[Suggestion]) -> str:
    lines = [
        "Thanks for contacting support. While an agent looks at your request, these "
        "articles may already help:",
        "",
    ]
    lines += [f"- {item.title}: {item.url}" for item in items]
    lines += ["", "If one of them solves it, you can reply to let us know."]
    return "\n".join(lines)


@hookimpl
def hub_notify(event: TicketEvent, hub: HubContext) -> None:
    """On a new ticket: auto-assign it, and auto-respond with suggested articles if any. (The
    reminders before an SLA breach are the notification matrix's ``sla_warning``.)"""
    if event.ticket is None:
        return
    if event.type == events.TICKET_CREATED:
        assign(hub, event)
        respond(hub, event)


def assign(hub: HubContext, event: TicketEvent) -> None:
    """Built-in auto-assignment (round robin or by skill), once per ticket."""
    from core.automation.rules import auto_assign

    assert event.ticket is not None
    with hub.session() as s:
        if not claim(s, event.tenant_id, event.ticket.id, f"auto-assign:{event.ticket.id}"):
            return
        ticket = s.scalar(
            select(Ticket)
            .where(Ticket.id == event.ticket.id, Ticket.tenant_id == event.tenant_id)
            .with_for_update()
        )
        if ticket is not None:
            auto_assign(s, ticket)


def respond(hub: HubContext, event: TicketEvent) -> None:
    """Auto-respond with knowledge-base articles when the hook finds some (once per ticket)."""
    from core.automation.rules import automation_user_id, settings_for

    assert event.ticket is not None
    with hub.session() as s:
        if not settings_for(s, event.tenant_id).auto_respond:
            return
    if event.ticket.requester.role in (AGENT, ADMIN):
        return  # opened by staff on someone's behalf: they answer themselves
    items = _suggest(hub, event)
    if not items:
        return
    with hub.session() as s:
        if not claim(s, event.tenant_id, event.ticket.id, f"kb-respond:{event.id}"):
            return
        ticket = s.scalar(
            select(Ticket).where(Ticket.id == event.ticket.id, Ticket.tenant_id == event.tenant_id)
        )
        if ticket is None:
            return
        system = system_actor(event.tenant_id)
        rule = {"rule_id": "builtin:auto-respond", "rule": "auto-respond"}
        row = add_comment(
            s,
            system,
            ticket,
            comment=_reply_text(items),
            channel="automation",
            author_id=automation_user_id(s),
            extra={
                **rule,
                "articles": [i.article_id for i in items],
                # For the channels that mail or post it (the email plugin's FAQ reply).
                "article_links": [{"title": i.title, "url": i.url} for i in items],
            },
        )
        events.audit(
            s,
            system,
            action="Automation",
            ticket_id=ticket.id,
            new="auto_respond",
            details={**rule, "comment_id": row.id, "articles": [i.article_id for i in items]},
        )
    hub.kick()
