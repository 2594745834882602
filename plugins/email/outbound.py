"""Ticket events as threaded mail to the requester and participants, through the tenant's relay.

Which events: creation (an acknowledgement), a public reply by an agent, a status change. Never
an internal note. A mail to the requester alone carries their sign-in link to the ticket
(``HubContext.requester_link``), so a requester without a password reads and answers it on the
portal. Automatic mail (acknowledgement, status change) is marked ``Auto-Submitted`` and
is never sent to a machine (the ticket came from an auto-reply or list mail) nor more than
``auto_reply_limit`` times an hour to one address, which breaks loops that carry no header.
Idempotent per outbox event: a retried event that was sent is not sent again.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.api import (
    ADMIN,
    AGENT,
    STRICT,
    EgressPolicy,
    HubContext,
    Relay,
    RenderedMail,
    TicketEvent,
    add_ticket_ref,
    now,
    one_line,
    opening_raw,
    person_values,
    render_mail,
    send_via_relay,
    thread_addresses,
)
from plugins.email import failing
from plugins.email.classify import classify
from plugins.email.delivery import base_address, settings_of
from plugins.email.mime import Mail
from plugins.email.models import SentMail
from plugins.email.parsing import REF_KIND
from plugins.email.settings import EmailSettings

log = logging.getLogger(__name__)
CREATED, AGENT_REPLY, STATUS = "created", "agent_reply", "status"
RESOLVED, CLOSED, FAQ = "resolved", "closed", "faq_reply"
AUTO_RESPOND = "builtin:auto-respond"
AUTOMATIC = {
    FAQ: "auto-replied",
    CREATED: "auto-replied",
    STATUS: "auto-generated",
    RESOLVED: "auto-generated",
    CLOSED: "auto-generated",
}
# A status change to these has its own template (the resolution carries the rating links).
STATUS_KINDS = {"Resolved": RESOLVED, "Closed": CLOSED}


@dataclass
class Outgoing:
    """A mail ready to send, with what we record about it."""

    message: EmailMessage
    message_id: str
    recipients: list[str]
    automatic: bool


def mail_kind(event: TicketEvent) -> str | None:
    """Which kind of mail an event makes, or None when it makes none."""
    if event.ticket is None:
        return None
    if event.type == "ticket.created":
        return CREATED
    if event.type == "comment.added":
        comment = event.comment
        if comment is None or comment.is_internal or event.payload.get("is_internal"):
            return None
        if event.payload.get("rule_id") == AUTO_RESPOND:
            return FAQ  # the knowledge base's automatic answer, with its article links
        if comment.author.role in (AGENT, ADMIN) and comment.author.id != event.ticket.requester.id:
            return AGENT_REPLY
        return None
    if event.type == "ticket.updated" and "status" in (event.payload.get("changes") or {}):
        return STATUS
    return None


def notify(event: TicketEvent, hub: HubContext) -> None:
    """The ``hub_notify`` work: send at most one mail per event; raise when the relay fails."""
    kind = mail_kind(event)
    if kind is None or event.ticket is None:
        return
    settings = settings_of(hub.config(event.tenant_id, "email"))
    if not settings.addresses or not settings.relay_host:
        log.info(
            "email: tenant %s has no support address or relay; event %s not mailed",
            event.tenant_id,
            event.id,
        )
        return
    # The FAQ reply belongs with the acknowledgement: the tenant turns both on or off.
    if (CREATED if kind == FAQ else kind) not in settings.notify_events:
        return
    if kind == STATUS:
        new_status = (event.payload.get("changes") or {}).get("status", [None, None])[1]
        if new_status not in settings.notify_statuses:
            return
    with hub.session() as s:
        if s.scalar(
            select(SentMail.id).where(
                SentMail.tenant_id == event.tenant_id, SentMail.event_id == event.id
            )
        ):
            return  # a retry of an event already sent
        recipients = _recipients(s, event, settings)
        automatic = kind in AUTOMATIC
        if automatic and recipients:
            if _from_a_machine(s, hub, event):
                log.info(
                    "email: ticket %s came from automated mail; no %s mail", event.ticket.id, kind
                )
                return
            recipients = _under_limit(s, event.tenant_id, recipients, settings.auto_reply_limit)
    if not recipients:
        return
    # The Reply-To is signed for the person the mail is addressed to (staff mail acts as staff
    # only through the address signed for them).
    # A mail to the requester alone carries their sign-in link (a copy to participants must
    # not: it would sign them in as the requester).
    signin_url = (
        hub.requester_link(event.tenant_id, event.ticket.id, recipients[0])
        if recipients == [event.ticket.requester.email.lower()]
        else None
    )
    template = template_kind(event, kind)
    values = variables(event, kind, recipients[0], signin_url)
    if template == RESOLVED and recipients == [event.ticket.requester.email.lower()]:
        values["rating_links"] = hub.rating_links(event.tenant_id, event.ticket.id, recipients[0])
    with hub.session() as s:
        rendered = render_mail(
            s,
            event.tenant_id,
            template,
            values,
            author_id=event.comment.author.id if event.comment else None,
            at=event.created_at,
        )
    out = build(
        event,
        kind,
        settings,
        recipients,
        hub.ticket_token(event.tenant_id, event.ticket.id, recipient=recipients[0]),
        rendered,
    )
    send(settings, out, egress=hub.egress)
    with hub.session() as s:
        s.add(
            SentMail(
                tenant_id=event.tenant_id,
                event_id=event.id,
                ticket_id=event.ticket.id,
                recipient=out.recipients[0],
                message_id=out.message_id,
                automatic=out.automatic,
                created_at=now(),
            )
        )
        add_ticket_ref(
            s, event.tenant_id, event.ticket.id, REF_KIND, out.message_id, {"event_id": event.id}
        )


def _recipients(s: Session, event: TicketEvent, settings: EmailSettings) -> list[str]:
    """The requester first, then participants, as the notification matrix and their
    preferences decide (never who acted); never us, nor a failing address."""
    assert event.ticket is not None
    ours = set(settings.addresses)
    wanted = [a for a in thread_addresses(s, event) if base_address(a) not in ours]
    if not wanted:
        return []
    bounced = failing.failing(s, event.tenant_id, wanted)
    return [a for a in wanted if a not in bounced]


def _from_a_machine(s: Session, hub: HubContext, event: TicketEvent) -> bool:
    """Whether the message that opened the ticket was an auto-reply, bounce or list mail."""
    assert event.ticket is not None
    if event.ticket.channel != "email":
        return False
    raw_path = opening_raw(s, event.tenant_id, event.ticket.id)
    if not raw_path:
        return False
    try:
        mail = Mail(hub.blob_store.get(raw_path))
    except Exception:
        return False
    sender = mail.addresses("From")
    return classify(mail, sender[0][1] if sender else None).automated


def _under_limit(s: Session, tenant_id: uuid.UUID, recipients: list[str], limit: int) -> list[str]:
    """Drop addresses that already got ``limit`` automatic mails in the last hour."""
    since = now() - timedelta(hours=1)
    counts = dict(
        s.execute(
            select(SentMail.recipient, func.count())
            .where(
                SentMail.tenant_id == tenant_id,
                SentMail.automatic.is_(True),
                SentMail.created_at >= since,
                SentMail.recipient.in_(recipients),
            )
            .group_by(SentMail.recipient)
        ).all()
    )
    kept = [a for a in recipients if counts.get(a, 0) < limit]
    if len(kept) < len(recipients):
        log.warning(
            "email: automatic mail rate limit hit for %s",
            ", ".join(a for a in recipients if a not in kept),
        )
    return kept


def template_kind(event: TicketEvent, kind: str) -> str:
    """The template of a mail kind: a status change to Resolved or Closed has its own."""
    if kind != STATUS:
        return kind
    new_status = (event.payload.get("changes") or {}).get("status", [None, None])[1]
    return STATUS_KINDS.get(new_status, STATUS)


def variables(
    event: TicketEvent, kind: str, recipient: str, signin_url: str | None
) -> dict[str, Any]:
    """The template variables of a ticket event's mail (``core.mail_templates.catalog``)."""
    ticket = event.ticket
    assert ticket is not None
    old, new = (event.payload.get("changes") or {}).get("status", [None, ticket.status])
    comment = event.comment
    actor = comment.author if comment else None
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
        "recipient": (
            person_values(ticket.requester)
            if recipient == ticket.requester.email.lower()
            else {"name": "", "email": recipient}
        ),
        "comment": (
            {"body": comment.body, "author": person_values(comment.author)} if comment else {}
        ),
        "url": signin_url or ticket.url,
        "private_link": bool(signin_url),
        "old_status": old or "",
        "new_status": new or ticket.status,
        "rating_links": [],
        "articles": [
            {"title": str(a.get("title", "")), "url": str(a.get("url", ""))}
            for a in event.payload.get("article_links") or []
            if isinstance(a, dict)
        ],
    }


def build(
    event: TicketEvent,
    kind: str,
    settings: EmailSettings,
    recipients: list[str],
    token: str,
    rendered: RenderedMail,
) -> Outgoing:
    """The mail for an event: our Message-ID, the thread's references, a signed Reply-To, and
    the rendered template as plain text with an HTML alternative."""
    ticket = event.ticket
    assert ticket is not None
    support = settings.addresses[0]
    local, _, domain = support.partition("@")
    digest = hashlib.sha256(f"{event.tenant_id}:{event.id}".encode()).hexdigest()[:12]
    # Stable across retries, so even a resend after a crash is one message to the receiver.
    message_id = f"hub.{ticket.id}.{event.id}.{digest}@{domain}"
    refs = ticket.refs.get(REF_KIND, [])[-20:]
    msg = EmailMessage()
    msg["From"] = formataddr((one_line(settings.from_name) or "Support", support))
    msg["To"] = one_line(recipients[0])
    if recipients[1:]:
        msg["Cc"] = one_line(", ".join(recipients[1:]))
    msg["Reply-To"] = f"{local}+{token}@{domain}"
    msg["Subject"] = one_line(rendered.subject)
    msg["Message-ID"] = f"<{message_id}>"
    msg["Date"] = format_datetime(now())
    if refs:
        msg["In-Reply-To"] = f"<{refs[-1]}>"
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    automatic = kind in AUTOMATIC
    if automatic:
        msg["Auto-Submitted"] = AUTOMATIC[kind]
        # Ask Exchange-style servers not to send out-of-office replies to our automatic mail.
        msg["X-Auto-Response-Suppress"] = "All"
    msg["X-Hub-Ticket"] = str(ticket.id)
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    return Outgoing(message=msg, message_id=message_id, recipients=recipients, automatic=automatic)


class RelayTimeout(TimeoutError):
    """The relay did not connect or answer a command in time: this event is retried later."""


def send(
    settings: EmailSettings,
    out: Outgoing,
    timeout: float | None = None,
    *,
    egress: EgressPolicy = STRICT,
) -> None:
    """Hand the mail to the relay; raises on any failure so the outbox retries."""
    send_message(settings, out.message, out.recipients, timeout=timeout, egress=egress)


def send_message(
    settings: EmailSettings,
    message: EmailMessage,
    recipients: list[str],
    timeout: float | None = None,
    *,
    egress: EgressPolicy = STRICT,
) -> None:
    """Hand a message to the tenant's relay (ticket mail, and the hub's own mails through
    ``plugins.email.hub_mail``); raises on any failure.

    ``timeout`` (the tenant's ``relay_timeout`` by default) bounds the connection and each
    command's reply; running out is a ``RelayTimeout``, a retryable failure of this mail only.
    The relay's resolved address is checked by the egress policy and connected to as checked;
    TLS verifies the configured host name."""
    timeout = settings.relay_timeout if timeout is None else timeout
    try:
        _relay_send(settings, message, recipients, timeout, egress)
    except (TimeoutError, smtplib.SMTPServerDisconnected) as exc:
        # smtplib reports a reply that timed out as a disconnection caused by the timeout.
        if not isinstance(exc, TimeoutError) and not isinstance(exc.__context__, TimeoutError):
            raise
        raise RelayTimeout(
            f"relay {settings.relay_host}:{settings.relay_port} did not answer within {timeout:g} s"
        ) from exc


def _relay_send(
    settings: EmailSettings,
    message: EmailMessage,
    recipients: list[str],
    timeout: float,
    egress: EgressPolicy,
) -> None:
    relay = Relay(
        settings.relay_host,
        settings.relay_port,
        settings.relay_tls,
        settings.relay_user,
        settings.relay_password,
    )
    # Raises when every recipient is refused; partial refusals are logged, not retried.
    refused = send_via_relay(
        relay,
        message,
        from_addr=settings.addresses[0],
        to_addrs=recipients,
        timeout=timeout,
        egress=egress,
    )
    if refused:
        log.warning("email: relay refused %s", ", ".join(refused))
