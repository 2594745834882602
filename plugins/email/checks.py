"""Email's "Test connection": the outgoing relay (connect, EHLO, STARTTLS, log in; nothing is
sent) and the IMAP mailbox (log in, open the folder), each through the egress policy; what
each server answered, in words."""

from __future__ import annotations

import smtplib
import uuid

from imapclient.exceptions import IMAPClientError, LoginError

from core.api import ConnectionCheck, HubContext, Relay, check_relay
from plugins.email.delivery import settings_of
from plugins.email.imap import connect
from plugins.email.settings import EmailSettings

PLUGIN = "email"


def _relay(settings: EmailSettings, hub: HubContext) -> tuple[bool, str]:
    relay = Relay(
        settings.relay_host,
        settings.relay_port,
        settings.relay_tls,
        settings.relay_user,
        settings.relay_password,
    )
    where = f"{settings.relay_host}:{settings.relay_port}"
    try:
        name = check_relay(relay, timeout=settings.relay_timeout, egress=hub.egress)
    except smtplib.SMTPAuthenticationError as exc:
        return False, f"the relay {where} refused the login ({exc.smtp_code})"
    except smtplib.SMTPNotSupportedError:
        return False, f"the relay {where} offers no STARTTLS or no login"
    except smtplib.SMTPException as exc:
        return False, f"the relay {where} refused: {type(exc).__name__}"
    except Exception as exc:  # unreachable, refused by the egress policy, TLS
        return False, f"the relay {where} could not be reached ({type(exc).__name__})"
    login = f", logged in as {settings.relay_user}" if settings.relay_user else ""
    return True, f"the relay {where} answered as {name}{login}"


def _imap(settings: EmailSettings, hub: HubContext) -> tuple[bool, str]:
    where = f"{settings.host}:{settings.port}"
    try:
        client = connect(settings, timeout=15, egress=hub.egress)
    except LoginError:
        return False, f"the IMAP server {where} refused the login"
    except Exception as exc:
        return False, f"the IMAP server {where} could not be reached ({type(exc).__name__})"
    try:
        info = client.select_folder(settings.folder, readonly=True)
    except IMAPClientError:
        return False, f"the IMAP server {where} has no folder {settings.folder}"
    finally:
        try:
            client.logout()
        except Exception:
            pass
    count = info.get(b"EXISTS", 0)
    return True, f"the IMAP folder {settings.folder} on {where} holds {count} messages"


def check(hub: HubContext, tenant_id: uuid.UUID) -> ConnectionCheck:
    settings = settings_of(hub.config(tenant_id, PLUGIN))
    parts = []
    if settings.relay_host:
        parts.append(_relay(settings, hub))
    if settings.host:
        parts.append(_imap(settings, hub))
    if not parts:
        return ConnectionCheck(
            False, "Neither an outgoing relay nor an IMAP mailbox is set: nothing to test."
        )
    text = "; ".join(m for _, m in parts)
    return ConnectionCheck(all(ok for ok, _ in parts), text[0].upper() + text[1:] + ".")
