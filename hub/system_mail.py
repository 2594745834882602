"""Mail the hub sends in its own name, through the operator's relay (``HUB_SYSTEM_RELAY_*``).

Used where a tenant's own relay must not carry the mail: the verification of a support address
(a tenant that claims someone else's address would read its secret on a relay it runs).
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import make_msgid

from core.mail_relay import Relay, send_via_relay
from hub.settings import Settings

log = logging.getLogger("hub.system_mail")


class NotConfigured(Exception):
    """The operator has set no system relay."""


def configured(settings: Settings) -> bool:
    """Whether the hub can send mail in its own name."""
    return bool(settings.system_relay_host)


def sender(settings: Settings) -> str:
    """The From address of system mail."""
    if settings.system_mail_from:
        return settings.system_mail_from
    host = settings.base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return f"no-reply@{host if '.' in host else 'localhost.localdomain'}"


def send(
    settings: Settings,
    *,
    to: str,
    subject: str,
    body: str,
    html: str | None = None,
    timeout: float = 15,
) -> str:
    """Send one mail (plain text, with an HTML alternative when given); returns its
    Message-ID. Raises ``NotConfigured`` or the relay's error."""
    if not configured(settings):
        raise NotConfigured("no system relay is configured (HUB_SYSTEM_RELAY_HOST)")
    msg = EmailMessage()
    msg["From"] = sender(settings)
    msg["To"] = to
    msg["Subject"] = subject
    msg["Auto-Submitted"] = "auto-generated"
    msg["Message-ID"] = make_msgid(domain=sender(settings).rpartition("@")[2])
    msg.set_content(body, cte="7bit" if body.isascii() else "quoted-printable")
    if html:
        msg.add_alternative(html, subtype="html")
    relay = Relay(
        settings.system_relay_host,
        settings.system_relay_port,
        settings.system_relay_tls,
        settings.system_relay_user,
        settings.system_relay_password,
    )
    # The operator's own relay: not a host a tenant chose, so no egress policy.
    send_via_relay(
        relay, msg, from_addr=sender(settings), to_addrs=[to], timeout=timeout, egress=None
    )
    log.info("system mail sent to %s", to)
    return str(msg["Message-ID"])
