"""Settings through the admin API: validated, secrets write-only, plugin hooks registered."""

from __future__ import annotations

from plugins.email.classify import AUTO_REPLY, HUMAN
from plugins.email.parsing import parse


def email_row(member) -> dict:  # type: ignore[no-untyped-def]
    resp = member.get("/api/v1/admin/plugins/")
    assert resp.status_code == 200
    return next(p for p in resp.json() if p["name"] == "email")


def test_secrets_are_stored_but_never_returned(mail_tenant) -> None:
    mail_tenant.configure(
        host="imap.example.test",
        user="support",
        password="hunter2-imap",
        relay_password="hunter2-relay",
    )
    row = email_row(mail_tenant.org.admin)
    assert row["secrets_set"] == ["password", "relay_password"]
    assert "hunter2" not in str(row)
    assert row["settings"]["addresses"] == [mail_tenant.address]
    config = mail_tenant.hub.config(mail_tenant.tenant_id, "email")
    assert config.get("password") == "hunter2-imap"


def test_bad_settings_are_refused_with_a_clear_error(mail_tenant) -> None:
    admin = mail_tenant.org.admin
    for bad in (
        {"addresses": ["not an address"]},
        {"addresses": ["support+x@acme.test"]},
        {"security": "ssl3"},
        {"relay_port": 0},
        {"no_such_setting": 1},
    ):
        resp = admin.patch("/api/v1/admin/plugins/email/", json={"settings": bad})
        assert 400 <= resp.status_code < 500, (bad, resp.text)
        assert "detail" in resp.json()


def test_addresses_are_normalised(mail_tenant) -> None:
    mail_tenant.configure(addresses=["Support@Example.COM", "support@example.com"])
    assert email_row(mail_tenant.org.admin)["settings"]["addresses"] == ["support@example.com"]


def test_only_admins_configure(mail_tenant) -> None:
    resp = mail_tenant.org.agent.patch(
        "/api/v1/admin/plugins/email/", json={"settings": {"from_name": "x"}}
    )
    assert resp.status_code == 403


def test_human_subjects_that_look_like_autoreplies_stay_human() -> None:
    raw = b"From: a@b.test\r\nSubject: Vacation request for May\r\n\r\nPlease approve.\r\n"
    assert parse(raw).classification.kind == HUMAN
    raw = b"From: a@b.test\r\nSubject: Out of Office: until Monday\r\n\r\nAway.\r\n"
    assert parse(raw).classification.kind == AUTO_REPLY


def test_hooks_are_registered(hub) -> None:  # type: ignore[no-untyped-def]
    services = [s for group in hub.pm.hook.hub_background_services(hub=hub) for s in group or ()]
    assert "smtp" in [s.name for s in services]
    assert hub.infos["email"].secret_fields == ("password", "relay_password")
