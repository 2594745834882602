"""One SMTP session with a relay: connect, STARTTLS or implicit TLS, log in, send.

Shared by the email plugin (a tenant's relay, through the egress policy) and the hub's system
mail (the operator's relay, which the operator configured and the policy does not judge).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from core.egress import EgressPolicy


@dataclass(frozen=True)
class Relay:
    """Where and how to hand mail over; ``tls`` is ``starttls``, ``tls`` or ``none``."""

    host: str
    port: int
    tls: str = "starttls"
    user: str = ""
    password: str = ""


def _connect(
    relay: Relay, timeout: float, egress: EgressPolicy | None, context: ssl.SSLContext
) -> smtplib.SMTP:
    """A connection to the relay: through the egress policy (its resolved address checked and
    connected to as checked) or, for a relay the operator configured, directly."""
    implicit = relay.tls == "tls"
    if egress is not None:
        return egress.smtp(
            relay.host, relay.port, timeout=timeout, context=context, implicit_tls=implicit
        )
    if implicit:
        return smtplib.SMTP_SSL(relay.host, relay.port, timeout=timeout, context=context)
    return smtplib.SMTP(relay.host, relay.port, timeout=timeout)


def send_via_relay(
    relay: Relay,
    message: EmailMessage,
    *,
    from_addr: str,
    to_addrs: list[str],
    timeout: float,
    egress: EgressPolicy | None,
) -> dict[str, tuple[int, bytes]]:
    """Send one message; returns the recipients the relay refused (raises when it refused all).

    With ``egress``, the relay's resolved address is checked and connected to as checked; None
    only for a relay the operator configured."""
    context = ssl.create_default_context()
    client = _connect(relay, timeout, egress, context)
    with client:
        if relay.tls == "starttls":
            client.starttls(context=context)
        if relay.user:
            client.login(relay.user, relay.password)
        return client.send_message(message, from_addr=from_addr, to_addrs=to_addrs)


def check_relay(relay: Relay, *, timeout: float, egress: EgressPolicy | None) -> str:
    """Connect, EHLO, STARTTLS and log in as a real send would, and send nothing: the relay's
    greeting name. Raises what smtplib raises (``SMTPAuthenticationError`` for a refused
    login)."""
    context = ssl.create_default_context()
    client = _connect(relay, timeout, egress, context)
    with client:
        code, greeting = client.ehlo()
        if relay.tls == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if relay.user:
            client.login(relay.user, relay.password)
        return greeting.decode("utf-8", "replace").splitlines()[0] if greeting else str(code)
