"""``hub_send_mail``: the hub's own mails to people (invitations, password resets, sign-in
links) sent in the tenant's name through the tenant's relay, under the egress policy."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from core.api import HubContext, OutboundMail, now, one_line
from plugins.email.delivery import settings_of
from plugins.email.outbound import send_message


def send_mail(mail: OutboundMail, hub: HubContext) -> str | None:
    """Send through the tenant's relay; None when the tenant has no support address or relay.
    Raises when the relay fails (the hub then tries its own relay)."""
    settings = settings_of(hub.config(mail.tenant_id, "email"))
    if not settings.addresses or not settings.relay_host:
        return None
    support = settings.addresses[0]
    msg = EmailMessage()
    msg["From"] = formataddr((one_line(settings.from_name) or "Support", support))
    msg["To"] = one_line(mail.to)
    msg["Subject"] = one_line(mail.subject)
    message_id = make_msgid(domain=support.rpartition("@")[2])
    msg["Message-ID"] = message_id
    msg["Date"] = format_datetime(now())
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(mail.text)
    if mail.html:
        msg.add_alternative(mail.html, subtype="html")
    send_message(settings, msg, [mail.to], egress=hub.egress)
    return message_id
