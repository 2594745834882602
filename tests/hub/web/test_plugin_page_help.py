"""The plugin page tells an admin what to do: the addresses to give each vendor, fields labelled
in words, and a refused value kept in its field with the error beside it."""

from __future__ import annotations

import re

from tests.hub.web.conftest import sign_in


def test_addresses_labels_and_a_refused_value_kept(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    admin = sign_in(app, web_org["admin"].email)
    page = admin.page("/admin/plugins")
    base = hub.base_url.rstrip("/")
    for path in (
        "/plugins/slack/events",
        "/plugins/teams/messages",
        "/plugins/jira/webhook",
        "/plugins/pagerduty/webhook",
    ):
        assert f"<code>{base}{path}</code>" in page, path
    assert f"<code>{hub.settings.smtp_host}:{hub.settings.smtp_port}</code>" in page
    assert "Personal access token (Jira Server / Data Center)" in page
    assert ">Pat<" not in page and ">Pat " not in page
    assert "Outgoing mail server (SMTP relay)" in page

    typed = "not a port"
    answer = admin.post(
        "/admin/plugins/email/settings",
        {"setting_relay_port": typed, "setting_relay_host": "smtp.example.net"},
    )
    assert answer.status_code == 422
    field = re.search(r'<input type="number" id="s-email-relay_port"[^>]*>', answer.text)
    assert (
        field and f'value="{typed}"' in field.group(0) and 'aria-invalid="true"' in field.group(0)
    )
    assert 'id="s-email-relay_port-error"' in answer.text
    host = re.search(r'id="s-email-relay_host"[^>]*>', answer.text)
    assert host and 'value="smtp.example.net"' in host.group(0)  # the other typed values stay
