"""Mail the hub sends people in a tenant's name: through the tenant's channel (``hub_send_mail``),
else the operator's system relay, else nowhere (the caller then shows the link to copy).

Called after the request's transaction committed: no database lock is held while a relay is
slow. A relay's failure is logged (never the body: it carries a secret link) and reported as
not sent.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass

from core.types import OutboundMail
from hub import system_mail
from hub.context import Hub

log = logging.getLogger("hub.mailer")


@dataclass(frozen=True)
class Delivery:
    """What became of a mail: sent through which route, with which Message-ID."""

    sent: bool
    via: str = ""  # "tenant" (the tenant's own relay) or "system" (the operator's)
    message_id: str = ""


NOT_SENT = Delivery(sent=False)


def send(hub: Hub, mail: OutboundMail) -> Delivery:
    """Send one mail by the first route that works."""
    try:
        message_id = hub.hooks(mail.tenant_id).hub_send_mail(mail=mail, hub=hub)
    except Exception as exc:
        log.warning("mail to %s through the tenant's relay failed: %s", mail.to, type(exc).__name__)
        message_id = None
    if message_id:
        return Delivery(sent=True, via="tenant", message_id=str(message_id))
    if not system_mail.configured(hub.settings):
        return NOT_SENT
    try:
        message_id = system_mail.send(
            hub.settings, to=mail.to, subject=mail.subject, body=mail.text, html=mail.html
        )
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("system mail to %s failed: %s", mail.to, type(exc).__name__)
        return NOT_SENT
    return Delivery(sent=True, via="system", message_id=message_id)
