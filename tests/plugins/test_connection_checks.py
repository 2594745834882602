""" "Test connection" against the local fakes of each vendor, through the API and the console:
Slack ``auth.test``, Jira ``myself``, the Teams bot's sign-in, the mail relay's EHLO and login
(and a relay that refuses the login), the IMAP folder; the answer in words, never a secret."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.hub.web.conftest import PASSWORD, sign_in
from tests.plugins.jira.conftest import configure as configure_jira
from tests.plugins.jira.conftest import fake_jira, jira_server
from tests.plugins.slack.conftest import configure as configure_slack
from tests.plugins.slack.conftest import fake_slack
from tests.plugins.teams.conftest import configure as configure_teams
from tests.plugins.teams.conftest import fake_teams
from tests.services import free_port

__all__ = ["fake_jira", "fake_slack", "fake_teams", "jira_server"]  # the vendors' fakes


def _test(org, name: str) -> dict:  # type: ignore[no-untyped-def]
    r = org.admin.post(f"/api/v1/admin/plugins/{name}/test/")
    assert r.status_code == 200, r.text
    return r.json()


def test_slack_auth_test(org, fake_slack) -> None:  # type: ignore[no-untyped-def]
    configure_slack(org, fake_slack)
    found = _test(org, "slack")
    assert found == {"ok": True, "message": "Slack answered: the bot is @hub in workspace Fake."}
    fake_slack.fail["auth.test"] = 1
    found = _test(org, "slack")
    assert found["ok"] is False and "internal_error" in found["message"]
    assert "xoxb" not in found["message"]


def test_jira_myself_and_a_refusal(org, fake_jira) -> None:  # type: ignore[no-untyped-def]
    configure_jira(org.admin, fake_jira)
    assert _test(org, "jira") == {
        "ok": True,
        "message": "Jira answered: the hub signs in as Support Hub.",
    }
    fake_jira.failures.append(("GET", r".*/myself$", 401, {"errorMessages": ["no"]}))
    found = _test(org, "jira")
    assert found["ok"] is False and "HTTP 401" in found["message"]
    assert "jira-token-0001" not in found["message"]


def test_teams_bot_sign_in(org, fake_teams) -> None:  # type: ignore[no-untyped-def]
    configure_teams(org, fake_teams)
    found = _test(org, "teams")
    assert found["ok"] is True and "accepted the bot" in found["message"]
    configure_teams(org, fake_teams, app_password="not-the-secret")
    found = _test(org, "teams")
    assert found["ok"] is False and "invalid_client" in found["message"]
    assert "not-the-secret" not in found["message"]


class _Logins:
    """An SMTP relay that accepts one user name and password (AUTH PLAIN/LOGIN, no TLS)."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user, password

    def __call__(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.user
            and auth_data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False)


class _Drop:
    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        return "250 OK"


@pytest.fixture
def relay() -> Iterator[tuple[str, int]]:
    port = free_port()
    controller = Controller(
        _Drop(),
        hostname="127.0.0.1",
        port=port,
        server_hostname="relay.test",
        authenticator=_Logins("hub", "relay-secret"),
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield "127.0.0.1", port
    finally:
        controller.stop()


def _email(org, **settings) -> None:  # type: ignore[no-untyped-def]
    assert org.admin.post("/api/v1/admin/plugins/email/enable/").status_code == 200
    body = {"addresses": ["help@acme.test"], **settings}
    r = org.admin.patch("/api/v1/admin/plugins/email/", json={"settings": body})
    assert r.status_code == 200, r.text


def test_mail_relay_login_and_a_refused_one(org, relay) -> None:  # type: ignore[no-untyped-def]
    host, port = relay
    common = {"relay_host": host, "relay_port": port, "relay_tls": "none", "relay_user": "hub"}
    _email(org, **common, relay_password="relay-secret")
    found = _test(org, "email")
    assert found == {
        "ok": True,
        "message": f"The relay {host}:{port} answered as relay.test, logged in as hub.",
    }
    _email(org, **common, relay_password="wrong")
    found = _test(org, "email")
    assert found["ok"] is False
    assert found["message"] == f"The relay {host}:{port} refused the login (535)."
    assert "wrong" not in found["message"]


def test_console_button_and_who_may(org, fake_slack, app, make_member) -> None:  # type: ignore[no-untyped-def]
    configure_slack(org, fake_slack)
    admin = make_member(org.tenant, "admin", password=PASSWORD)
    web = sign_in(app, admin.email)
    page = web.page("/admin/plugins")
    assert 'action="/admin/plugins/slack/test"' in page
    answer = web.post("/admin/plugins/slack/test")
    assert answer.status_code == 200
    assert "Connection works:" in answer.text and "workspace Fake" in answer.text
    assert org.agent.post("/api/v1/admin/plugins/slack/test/").status_code == 403
    assert org.admin.post("/api/v1/admin/plugins/nothing/test/").status_code == 404
