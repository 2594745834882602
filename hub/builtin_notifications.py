"""Built-in notifications: every ticket event, resolved by the matrix, reaches people in the app,
by mail (``hub_send_mail`` through ``hub.mailer``) and by chat DM (``hub_notify_person``).

Why from the outbox consumer and not in the event's transaction: the write paths (bulk intake,
batch replies) stay a few statements; one resolution drives the three channels alike; and it
sees the ticket as committed. Exactly once per (event, person, channel): a delivery row with a
unique key, claimed in the same transaction as the in-app row; a mail or DM is claimed after it
was sent (a crash between the two resends it, never loses it), and a retry skips what was
claimed. The requester's threaded mails are the email plugin's (``Notice.threaded``).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from core.api import (
    Capability,
    HubContext,
    OutboundMail,
    PersonNotice,
    PluginInfo,
    TicketEvent,
    hookimpl,
    person_values,
    render_mail,
)
from core.models import Tenant
from core.notifications import inapp, matrix
from core.notifications.mail import compose
from core.notifications.resolver import Notice, resolve

log = logging.getLogger("hub.notifications")
NAME = "notifications"


@hookimpl
def hub_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        title="Notifications",
        description="The notification matrix: in-app, mail and chat DMs for every ticket event.",
        capabilities=(Capability.NOTIFY,),
    )


def _url(hub: HubContext, event: TicketEvent) -> str:
    assert event.ticket is not None
    return event.ticket.url


def _wording(hub: HubContext, event: TicketEvent, notice: Notice, tenant: str) -> tuple[str, str]:
    assert event.ticket is not None
    actor = None
    if event.comment is not None:
        actor = event.comment.author
    elif event.actor_id is not None:
        for p in (event.ticket.assignee, event.ticket.requester):
            if p is not None and p.id == event.actor_id:
                actor = p
    return compose(
        notice.kind,
        {
            "ticket": event.ticket,
            "actor": actor,
            "recipient": notice.person,
            "comment": event.comment,
            "tenant": tenant,
            "url": _url(hub, event),
            "extra": event.payload,
        },
    )


@hookimpl
def hub_notify(event: TicketEvent, hub: HubContext) -> None:
    """Deliver the event's notices; raise (to be retried) when a mail or DM failed."""
    if event.ticket is None:
        return
    with hub.session() as s:
        notices = resolve(s, event)
        done = inapp.delivered(s, event.id)
        tenant = s.scalar(select(Tenant.name).where(Tenant.id == event.tenant_id)) or ""
    todo = [n for n in notices if not n.threaded and (n.person.id, n.channel) not in done]
    if not todo:
        return
    failed: list[str] = []
    with hub.session() as s:
        for n in todo:
            if n.channel == matrix.IN_APP and inapp.claim(
                s, event.tenant_id, event.id, n.person.id, n.channel, n.kind
            ):
                subject, _ = _wording(hub, event, n, tenant)
                inapp.add(s, event.tenant_id, n.person.id, event.ticket.id, n.kind, subject)
    for n in todo:
        if n.channel == matrix.IN_APP:
            continue
        subject, text = _wording(hub, event, n, tenant)
        try:
            sent = _send(hub, event, n, subject, text)
        except Exception as exc:
            log.warning("notice %s/%s of event %s failed: %s", n.kind, n.channel, event.id, exc)
            failed.append(f"{n.channel}:{n.person.id}")
            continue
        if sent:
            with hub.session() as s:
                inapp.claim(s, event.tenant_id, event.id, n.person.id, n.channel, n.kind)
    if failed:
        raise RuntimeError(f"notices not delivered: {', '.join(failed)}")


# The notices whose mail a tenant words itself (``/admin/email-templates``); the others use
# the matrix's own wording (``compose``).
TEMPLATED = {
    matrix.ASSIGNED: "assignment",
    matrix.MENTION: "mention",
    matrix.SLA_WARNING: "sla_warning",
    matrix.SLA_BREACH: "sla_breach",
    matrix.ESCALATION: "escalation",
    matrix.MERGE: "merge",
    matrix.REQUESTER_REPLY: "requester_reply",
}


def _template_values(event: TicketEvent, n: Notice, actor: Any) -> dict[str, Any]:
    """The catalog's variables (core.mail_templates.catalog) of one staff notice."""
    ticket = event.ticket
    assert ticket is not None
    comment = event.comment
    extra = event.payload or {}
    into = extra.get("into") or extra.get("target_id")
    return {
        "ticket": {
            "id": ticket.id,
            "subject": ticket.subject,
            "status": ticket.status,
            "priority": ticket.priority,
            "category": ticket.category,
            "url": ticket.url,
            "requester": person_values(ticket.requester),
        },
        "actor": person_values(actor),
        "recipient": person_values(n.person),
        "comment": (
            {"body": comment.body, "author": person_values(comment.author)} if comment else {}
        ),
        "url": ticket.url,
        "private_link": False,
        "sla_target": str(extra.get("sla_target") or extra.get("target") or "SLA"),
        "due": str(extra.get("due_at") or extra.get("due") or ""),
        "reason": str(extra.get("note") or extra.get("reason") or ""),
        "target": {
            "id": into or "",
            "subject": "",
            "url": ticket.url.rsplit("/", 1)[0] + f"/{into}",
        }
        if into
        else {"id": "", "subject": "", "url": ""},
    }


def _mail(hub: HubContext, event: TicketEvent, n: Notice, subject: str, text: str) -> OutboundMail:
    """The mail of a notice: the tenant's template of its kind where the catalog has one
    (a template that fails falls back to the built-in one, reported), else the matrix's words."""
    kind = TEMPLATED.get(n.kind)
    if kind is None or event.ticket is None:
        return OutboundMail(
            tenant_id=event.tenant_id, to=n.person.email, subject=subject, text=text
        )
    actor = event.comment.author if event.comment is not None else None
    with hub.session() as s:
        rendered = render_mail(s, event.tenant_id, kind, _template_values(event, n, actor))
    return OutboundMail(
        tenant_id=event.tenant_id,
        to=n.person.email,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
    )


def _send(hub: HubContext, event: TicketEvent, n: Notice, subject: str, text: str) -> bool:
    """One mail or DM; True when it went out (False: nobody could carry it, not retried)."""
    from hub import mailer

    if n.channel == matrix.EMAIL:
        mail = _mail(hub, event, n, subject, text)
        return mailer.send(hub, mail).sent  # type: ignore[arg-type]
    notice = PersonNotice(
        event_id=event.id,
        tenant_id=event.tenant_id,
        kind=n.kind,
        channel=n.channel,
        person=n.person,
        ticket=event.ticket,
        subject=subject,
        text=text,
        url=_url(hub, event),
    )
    return bool(hub.hooks(event.tenant_id).hub_notify_person(notice=notice, hub=hub))
