"""Key rotation: several keys decrypt (HUB_SECRET_KEYS, newest first), the newest encrypts,
``hub secrets rotate`` re-encrypts every stored secret; a secret no key decrypts is an error on
the plugin admin page, in the log and in /readyz, never "not set"."""

from __future__ import annotations

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from core.crypto import Keyring
from core.models import TenantPlugin
from core.permissions import system_actor
from core.services import plugins as plugin_service
from hub.app import create_app
from hub.cli import app as cli
from hub.context import Hub
from hub.settings import Settings
from tests.logs import captured_logs

KEY_A = "key-a-0123456789-aaaaaaaaaaaaaaaa"
KEY_B = "key-b-0123456789-bbbbbbbbbbbbbbbb"
runner = CliRunner()


def _store(hub: Hub, tenant_id, keyring: Keyring, token: str) -> None:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        plugin_service.configure(
            s,
            system_actor(tenant_id),
            "jira",
            settings={"base_url": "https://jira.example"},
            secrets={"api_token": token},
            keyring=keyring,
        )


def _cipher(hub: Hub, tenant_id) -> str:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        row = s.query(TenantPlugin).filter_by(tenant_id=tenant_id, plugin="jira").one()
        return str(row.secrets_encrypted)


def _hub_with(settings: Settings, hub: Hub, keys: str) -> Hub:
    return Hub(settings.model_copy(update={"secret_keys": keys}), engine=hub.engine)


def _rotate(settings: Settings, monkeypatch, keys: str):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HUB_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("HUB_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HUB_SECRET_KEYS", keys)
    return runner.invoke(cli, ["secrets", "rotate"])


def test_encrypt_with_a_add_b_rotate_remove_a(settings, hub, org, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tenant_id = org.tenant[0]
    _store(hub, tenant_id, Keyring(KEY_A), "jira-token-1")
    before = _cipher(hub, tenant_id)

    both = _hub_with(settings, hub, f"{KEY_B},{KEY_A}")
    assert both.config(tenant_id, "jira").secrets == {"api_token": "jira-token-1"}

    done = _rotate(settings, monkeypatch, f"{KEY_B},{KEY_A}")
    assert done.exit_code == 0, done.output
    assert "re-encrypted" in done.output
    after = _cipher(hub, tenant_id)
    assert after != before
    assert not Keyring(KEY_A).can_decrypt(after) and Keyring(KEY_B).can_decrypt(after)

    only_b = _hub_with(settings, hub, KEY_B)
    assert only_b.config(tenant_id, "jira").secrets == {"api_token": "jira-token-1"}
    # The newest key encrypts what is written next.
    _store(only_b, tenant_id, only_b.keyring, "jira-token-2")
    assert Keyring(KEY_B).decrypt_json(_cipher(hub, tenant_id))["api_token"] == "jira-token-2"


def test_signatures_of_the_older_key_still_verify() -> None:
    old, ring = Keyring(KEY_A), Keyring([KEY_B, KEY_A])
    signed = old.sign("tenant:42")
    assert ring.verify("tenant:42", signed)
    assert ring.sign("tenant:42") == Keyring(KEY_B).sign("tenant:42")
    assert not Keyring(KEY_B).verify("tenant:42", signed)


def test_hub_secret_key_alone_keeps_working(settings) -> None:  # type: ignore[no-untyped-def]
    assert settings.secret_keys == ""
    assert settings.keyring_secrets == [settings.secret_key]


def test_a_secret_no_key_decrypts_is_an_error_everywhere(settings, hub, org, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tenant_id = org.tenant[0]
    _store(hub, tenant_id, Keyring(KEY_A), "jira-token-lost")
    lost = _hub_with(settings, hub, KEY_B)
    with TestClient(create_app(lost), raise_server_exceptions=False) as client:
        admin = {"Authorization": f"Bearer {org.admin.token}"}
        with captured_logs() as logs:
            listed = client.get("/api/v1/admin/plugins/", headers=admin)
            ready = client.get("/readyz")
        [jira] = [p for p in listed.json() if p["name"] == "jira"]
        assert jira["secrets_error"] and "HUB_SECRET_KEYS" in jira["secrets_error"]
        assert jira["secrets_set"] == []
        assert ready.status_code == 503
        assert ready.json()["checks"]["secrets"].startswith("failed")
        assert "jira" in ready.json()["checks"]["secrets"]
        assert logs.lines("stored secrets undecryptable", plugin="jira", tenant=str(tenant_id))
        assert "jira-token-lost" not in logs.text

        # The console's plugin page says so too (an error, not "not set").
        client.cookies.clear()
    page = _console_plugins_page(lost, org)
    assert "Secrets unreadable" in page

    refused = _rotate(settings, monkeypatch, KEY_B)
    assert refused.exit_code == 1
    assert "jira" in refused.output and "left as they are" in refused.output


def _console_plugins_page(hub: Hub, org) -> str:  # type: ignore[no-untyped-def]
    from core.services import identity

    password = "a long enough password 1234"
    with hub.session() as s:
        user = identity.user_by_email(s, org.admin.email)
        assert user is not None
        identity.set_password(s, user, password)
    with TestClient(create_app(hub), raise_server_exceptions=False) as client:
        signed = client.post(
            "/api/v1/auth/login",
            json={"email": org.admin.email, "password": password, "tenant": org.tenant[1]},
        )
        assert signed.status_code == 200, signed.text
        page = client.get("/admin/plugins")
        assert page.status_code == 200, page.text
        return page.text
