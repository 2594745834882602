""" "Test connection" of the email plugin against a real Dovecot: the IMAP login and folder, a
refused login, a folder that does not exist (the relay's half: tests/plugins/test_connection_checks.py)."""

from __future__ import annotations

from tests.plugins.email.conftest import make_mail
from tests.plugins.email.imap_client import append


def _imap(tenant, dovecot, **over) -> None:  # type: ignore[no-untyped-def]
    settings = {
        "host": dovecot.host,
        "port": dovecot.port,
        "security": "none",
        "user": dovecot.user,
        "password": dovecot.password,
        "folder": "INBOX",
        "relay_host": "",
    }
    tenant.configure(**{**settings, **over})


def _check(tenant) -> dict:  # type: ignore[no-untyped-def]
    r = tenant.org.admin.post("/api/v1/admin/plugins/email/test/")
    assert r.status_code == 200, r.text
    return r.json()


def test_imap_login_folder_and_refusals(dovecot, mail_tenant) -> None:  # type: ignore[no-untyped-def]
    _imap(mail_tenant, dovecot)
    append(dovecot, make_mail(sender="jane@c.test", to=dovecot.user, subject="One"))
    found = _check(mail_tenant)
    where = f"{dovecot.host}:{dovecot.port}"
    assert found["ok"] is True, found
    assert found["message"].startswith(f"The IMAP folder INBOX on {where} holds ")
    _imap(mail_tenant, dovecot, folder="Nowhere")
    found = _check(mail_tenant)
    assert found == {"ok": False, "message": f"The IMAP server {where} has no folder Nowhere."}
    _imap(mail_tenant, dovecot, password="not-it")
    found = _check(mail_tenant)
    assert found == {"ok": False, "message": f"The IMAP server {where} refused the login."}
