"""IMAP client helpers of the email tests: put mail in the test Dovecot and look at its flags."""

from __future__ import annotations

from imapclient import IMAPClient

from tests.plugins.email.conftest import Dovecot
from tests.plugins.email.smtp_client import crlf


def mailbox(dovecot: Dovecot) -> IMAPClient:
    client = IMAPClient(dovecot.host, port=dovecot.port, ssl=False, timeout=10)
    client.login(dovecot.user, dovecot.password)
    return client


def append(dovecot: Dovecot, *raws: bytes, folder: str = "INBOX") -> None:
    with mailbox(dovecot) as client:
        for raw in raws:
            client.append(folder, crlf(raw))


def configure_imap(tenant, dovecot: Dovecot, **extra) -> None:  # type: ignore[no-untyped-def]
    tenant.configure(
        host=dovecot.host,
        port=dovecot.port,
        security="none",
        user=dovecot.user,
        password=dovecot.password,
        folder="INBOX",
        **extra,
    )


def unseen(dovecot: Dovecot, folder: str = "INBOX") -> list[int]:
    with mailbox(dovecot) as client:
        client.select_folder(folder, readonly=True)
        return list(client.search(["UNSEEN"]))
