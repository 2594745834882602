"""Every outbound connection a tenant can configure goes through the one egress policy.

Each plugin's outbound client is pointed at a listening socket on 127.0.0.1 that records every
connection it accepts. With an empty operator allow-list the client is refused before a byte is
sent (the socket saw nothing); with the allow-list naming loopback the same call reaches it. A
host name that resolves to loopback is refused the same way, and the admin API refuses such
hosts when they are saved (422, with the reason).
"""

from __future__ import annotations

import base64
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.api import EgressPolicy, PluginConfig
from hub.app import create_app
from hub.context import Hub
from plugins.email import imap as email_imap
from plugins.email import outbound as email_outbound
from plugins.email.settings import EmailSettings
from plugins.jira import client as jira_client
from plugins.jira.settings import JiraSettings
from plugins.pagerduty import client as pd_client
from plugins.pagerduty.settings import PagerDutySettings
from plugins.slack import files as slack_files
from plugins.slack.context import Ctx
from plugins.slack.service import make_client
from plugins.teams import files as teams_files
from plugins.teams.auth import OpenIdKeys, verify_connector_token
from plugins.teams.connector import Connector, TokenCache


class Listener:
    """A TCP socket on 127.0.0.1 that counts the connections it accepts and closes each."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.accepted = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    box = Listener()
    yield box
    box.close()


def _cfg(plugin: str, **values: Any) -> PluginConfig:
    return PluginConfig(
        tenant_id=uuid.uuid4(), plugin=plugin, enabled=True, settings=values, secrets={}, state={}
    )


def _jira(policy: EgressPolicy, host: str, port: int) -> Any:
    return jira_client.connect(
        JiraSettings(server=f"http://{host}:{port}", project_key="SUP", pat="jira-token"), policy
    )


def _pagerduty_events(policy: EgressPolicy, host: str, port: int) -> Any:
    settings = PagerDutySettings(routing_key="R" * 32, base_url=f"https://{host}:{port}")
    return pd_client.send(
        settings,
        "trigger",
        "dedup-1",
        egress=policy,
        payload={"summary": "x", "source": "hub", "severity": "critical"},
    )


def _pagerduty_rest(policy: EgressPolicy, host: str, port: int) -> Any:
    settings = PagerDutySettings(api_token="pd-token", api_base_url=f"https://{host}:{port}")
    return pd_client.incident_key(settings, "PINC1", policy)


def _slack_api(policy: EgressPolicy, host: str, port: int) -> Any:
    cfg = _cfg("slack", api_base_url=f"http://{host}:{port}/api/", bot_token="xoxb-secret")
    return make_client(cfg, policy).auth_test()


def _slack_file(policy: EgressPolicy, host: str, port: int) -> Any:
    cfg = _cfg("slack", api_base_url=f"http://{host}:{port}/api/", bot_token="xoxb-secret")
    hub = SimpleNamespace(egress=policy, attachment_policy=SimpleNamespace(max_bytes=1 << 20))
    ctx = Ctx(
        hub=hub,
        tenant_id=cfg.tenant_id,
        team="T1",
        config=cfg,  # type: ignore[arg-type]
        client=None,
    )  # type: ignore[arg-type]
    got, skipped = slack_files.attachments(
        ctx,
        {
            "files": [
                {
                    "id": "F1",
                    "name": "a.txt",
                    "url_private_download": f"http://{host}:{port}/f/a.txt",
                }
            ]
        },
    )
    assert not got
    return skipped


def _teams_token(policy: EgressPolicy, host: str, port: int) -> Any:
    cfg = _cfg(
        "teams",
        app_id="app",
        app_password="teams-secret",
        login_url=f"http://{host}:{port}/t/oauth2/v2.0/token",
    )
    return TokenCache().token(cfg, policy)


def _teams_connector(policy: EgressPolicy, host: str, port: int) -> Any:
    cfg = _cfg(
        "teams",
        app_id="app",
        app_password="teams-secret",
        login_url=f"http://{host}:{port}/t/oauth2/v2.0/token",
    )
    return Connector(cfg, policy, tokens=TokenCache()).send(
        f"http://{host}:{port}/svc/", "conv", {"type": "message"}
    )


def _teams_keys(policy: EgressPolicy, host: str, port: int) -> Any:
    # An unauthenticated request: its token's header alone makes the hub fetch the keys.
    header = base64.urlsafe_b64encode(b'{"alg":"RS256","kid":"kid-1"}').rstrip(b"=").decode()
    return verify_connector_token(
        f"{header}.e30.c2ln",
        keys=OpenIdKeys(),
        app_id="app",
        metadata_url=f"http://{host}:{port}/openid",
        egress=policy,
        service_url="https://smba.trafficmanager.net/",
        channel_id=None,
    )


def _teams_file(policy: EgressPolicy, host: str, port: int) -> Any:
    activity = {
        "serviceUrl": f"http://{host}:{port}/svc/",
        "attachments": [
            {
                "contentType": teams_files.FILE_INFO,
                "name": "a.txt",
                "content": {"downloadUrl": f"http://{host}:{port}/svc/files/a.txt"},
            }
        ],
    }
    got, skipped = teams_files.attachments(_cfg("teams"), activity, 1 << 20, policy)
    assert not got
    return skipped


def _email_relay(policy: EgressPolicy, host: str, port: int) -> Any:
    settings = EmailSettings(
        addresses=["support@example.com"], relay_host=host, relay_port=port, relay_tls="none"
    )
    msg = EmailMessage()
    msg["Subject"] = "x"
    msg.set_content("x")
    out = email_outbound.Outgoing(
        message=msg, message_id="m@example.com", recipients=["a@example.com"], automatic=False
    )
    return email_outbound.send(settings, out, timeout=5, egress=policy)


def _email_imap(policy: EgressPolicy, host: str, port: int) -> Any:
    settings = EmailSettings(host=host, port=port, security="none", user="u", password="p")
    return email_imap.connect(settings, timeout=5, egress=policy)


CLIENTS: dict[str, Callable[[EgressPolicy, str, int], Any]] = {
    "jira": _jira,
    "pagerduty-events": _pagerduty_events,
    "pagerduty-rest": _pagerduty_rest,
    "slack-api": _slack_api,
    "slack-file": _slack_file,
    "teams-token": _teams_token,
    "teams-connector": _teams_connector,
    "teams-openid": _teams_keys,
    "teams-file": _teams_file,
    "email-relay": _email_relay,
    "email-imap": _email_imap,
}
# Slack's API and Teams' login and metadata are vendor URLs: a local stand-in needs the
# operator's override as well as the allow-list (see test_vendor_urls_are_fixed).
OVERRIDE = {"slack-api", "slack-file", "teams-token", "teams-connector", "teams-openid"}


def _outcome(run: Callable[[], Any]) -> str:
    try:
        return repr(run())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
@pytest.mark.parametrize("name", sorted(CLIENTS))
def test_refused_before_any_byte_with_an_empty_allow_list(
    name: str, host: str, listener: Listener
) -> None:
    policy = EgressPolicy.from_settings("", vendor_override=name in OVERRIDE)
    outcome = _outcome(lambda: CLIENTS[name](policy, host, listener.port))
    assert listener.accepted == 0, outcome
    assert "refused" in outcome.lower() or "could not be downloaded" in outcome, outcome


@pytest.mark.parametrize("name", sorted(CLIENTS))
def test_the_allow_list_lets_the_same_call_through(name: str, listener: Listener) -> None:
    policy = EgressPolicy.from_settings(
        f"127.0.0.1:{listener.port}", vendor_override=name in OVERRIDE
    )
    outcome = _outcome(lambda: CLIENTS[name](policy, "127.0.0.1", listener.port))
    assert listener.accepted >= 1, outcome


@pytest.mark.parametrize("name", sorted(OVERRIDE - {"slack-file"}))
def test_vendor_urls_are_fixed_unless_the_operator_allows_overrides(
    name: str, listener: Listener
) -> None:
    # Even with loopback allowed, Slack's API and Teams' login/metadata stay the vendor's.
    policy = EgressPolicy.from_settings(f"127.0.0.1:{listener.port}", vendor_override=False)
    outcome = _outcome(lambda: CLIENTS[name](policy, "127.0.0.1", listener.port))
    assert listener.accepted == 0, outcome
    assert "fixed to https://" in outcome, outcome


def test_slack_files_only_from_slacks_file_host(listener: Listener) -> None:
    # Without the vendor override a file URL on the tenant's API host is not fetched at all.
    policy = EgressPolicy.from_settings(f"127.0.0.1:{listener.port}", vendor_override=False)
    skipped = _slack_file(policy, "127.0.0.1", listener.port)
    assert listener.accepted == 0
    assert skipped == ["a.txt: not on Slack's file host"]


# ------------------------------------------------------------------ configure time


@pytest.fixture
def strict_admin(hub: Hub, org: Any) -> Iterator[Callable[[str, dict[str, Any]], Any]]:
    """PATCH a plugin's settings as ``org``'s admin on a hub with no egress exceptions."""
    strict = Hub(
        hub.settings.model_copy(update={"egress_allow": "", "egress_allow_vendor_override": False}),
        pm=hub.pm,
        engine=hub.engine,
    )
    with TestClient(create_app(strict), raise_server_exceptions=False) as client:

        def patch(plugin: str, settings: dict[str, Any]) -> Any:
            r = client.post(f"/api/v1/admin/plugins/{plugin}/enable/", headers=org.admin.headers)
            assert r.status_code == 200, r.text
            return client.patch(
                f"/api/v1/admin/plugins/{plugin}/",
                headers=org.admin.headers,
                json={"settings": settings},
            )

        yield patch


REFUSED_SETTINGS = [
    ("jira", {"server": "http://127.0.0.1:8080"}, "server", "loopback"),
    ("jira", {"server": "http://localhost:8080"}, "server", "resolves to a loopback"),
    ("pagerduty", {"base_url": "https://10.1.2.3"}, "base_url", "private"),
    ("pagerduty", {"api_base_url": "https://169.254.169.254"}, "api_base_url", "link-local"),
    ("email", {"relay_host": "localhost", "relay_port": 25}, "relay_host", "loopback"),
    ("email", {"host": "[::ffff:127.0.0.1]"}, "host", "loopback"),
    ("slack", {"api_base_url": "http://127.0.0.1:9/api/"}, "api_base_url", "fixed to"),
    ("teams", {"login_url": "https://login.example.net/token"}, "login_url", "fixed to"),
    ("teams", {"openid_metadata_url": "http://127.0.0.1/meta"}, "openid_metadata_url", "fixed to"),
]


@pytest.mark.parametrize(("plugin", "values", "field", "why"), REFUSED_SETTINGS)
def test_admin_api_refuses_a_refused_host_with_422(
    strict_admin: Any, plugin: str, values: dict[str, Any], field: str, why: str
) -> None:
    r = strict_admin(plugin, values)
    assert r.status_code == 422, r.text
    detail = r.text
    assert field in detail and why in detail, detail


def test_admin_api_takes_a_public_host(strict_admin: Any) -> None:
    r = strict_admin("jira", {"server": "https://8.8.8.8", "project_key": "SUP"})
    assert r.status_code == 200, r.text
