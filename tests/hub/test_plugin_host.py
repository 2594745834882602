"""The plugin host: discovery, per-tenant enablement of every hook family, settings and secrets."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.intake import InboundMessage
from core.models import TenantPlugin
from hub import outbox
from hub.context import Hub
from hub.plugins import make_plugin_manager
from hub.worker import periodic_tasks
from tests.hub.conftest import as_client as _as
from tests.hub.recorder_plugin import Recorder

T = "/api/v1/support/tickets/"
NEW = {"subject": "Help", "description": "Please.", "category": "Other"}


def test_entry_points_load_every_builtin_plugin(hub: Hub) -> None:
    assert {"email", "slack", "teams", "jira", "pagerduty", "chatbot"} <= set(hub.installed())
    for name in hub.installed():
        assert hub.infos[name].title


def test_misspelt_hookimpl_fails_at_start() -> None:
    from core.api import hookimpl

    class Typo:
        @hookimpl
        def hub_notfy(self) -> None:  # the typo is the point
            pass

    from pluggy import PluginValidationError

    with pytest.raises(PluginValidationError):
        make_plugin_manager(autoload=False, extra=[("typo", Typo())])


def test_each_family_runs_only_for_enabled_tenant(
    rhub: Hub, rclient: TestClient, recorder: Recorder, org, other_org
) -> None:  # type: ignore[no-untyped-def]
    admin_a, admin_b = _as(org.admin, rclient), _as(other_org.admin, rclient)
    assert admin_a.post("/api/v1/admin/plugins/recorder/enable/").status_code == 200
    # notification
    ta = _as(org.end_user, rclient).post(T, json=NEW).json()["id"]
    tb = _as(other_org.end_user, rclient).post(T, json=NEW).json()["id"]
    outbox.drain(rhub)
    notified = {e.ticket.id for e in recorder.of("hub_notify")}
    assert ta in notified and tb not in notified
    # escalation: offered and called for A only
    r = _as(org.agent, rclient).post(f"{T}{ta}/escalate/", json={"target": "recorder"})
    assert r.status_code == 202, r.text
    r = _as(other_org.agent, rclient).post(f"{T}{tb}/escalate/", json={"target": "recorder"})
    assert r.status_code == 422
    outbox.drain(rhub)
    escalated = [e for e in recorder.of("hub_escalate") if e.target == "recorder"]
    assert [e.ticket.id for e in escalated] == [ta]
    audit = _as(org.agent, rclient).get(f"{T}{ta}/audit/").json()
    assert any(a["action"] == "Escalated" and a["new_value"] == f"REC-{ta}" for a in audit)
    # knowledge base
    assert rhub.hooks(org.tenant[0]).hub_kb_suggest(
        tenant_id=org.tenant[0], text="vpn", limit=3, audience="public", hub=rhub
    )
    other = rhub.hooks(other_org.tenant[0]).hub_kb_suggest(
        tenant_id=other_org.tenant[0], text="vpn", limit=3, audience="public", hub=rhub
    )
    assert all(s.source != "recorder" for group in other for s in group)
    # intake threading
    msg = InboundMessage(
        channel="recorder",
        dedupe_key="m1",
        sender_email=org.end_user.email,
        body="more info",
        meta={"recorder_ticket": ta},
    )
    assert rhub.ingest(org.tenant[0], msg).outcome == "comment"
    msg_b = InboundMessage(
        channel="recorder",
        dedupe_key="m1",
        sender_email=other_org.end_user.email,
        body="more info",
        meta={"recorder_ticket": tb},
    )
    assert rhub.ingest(other_org.tenant[0], msg_b).outcome == "ticket"
    # routes answer 404 for a tenant that has not enabled the plugin
    assert rclient.get(f"/plugins/recorder/ping/{org.tenant[0]}").json() == {"pong": "hello"}
    assert rclient.get(f"/plugins/recorder/ping/{other_org.tenant[0]}").status_code == 404
    # disabling takes effect at once
    assert admin_a.post("/api/v1/admin/plugins/recorder/disable/").status_code == 200
    recorder.calls.clear()
    _as(org.end_user, rclient).post(T, json=NEW)
    outbox.drain(rhub)
    assert recorder.of("hub_notify") == []
    assert admin_b.get("/api/v1/admin/plugins/").status_code == 200


def test_app_extension_hooks(rhub: Hub, recorder: Recorder) -> None:
    assert recorder.of("hub_configure") == [rhub]
    assert "recorder.tick" in periodic_tasks(rhub)
    periodic_tasks(rhub)["recorder.tick"].run(rhub)
    assert recorder.of("tick") == [rhub]
    services = [s for group in rhub.pm.hook.hub_background_services(hub=rhub) for s in group]
    assert "recorder" in [s.name for s in services]


def test_resolve_tenant_is_firstresult(rhub: Hub, rclient: TestClient, org) -> None:  # type: ignore[no-untyped-def]
    admin = _as(org.admin, rclient)
    admin.post("/api/v1/admin/plugins/recorder/enable/")
    admin.patch("/api/v1/admin/plugins/recorder/", json={"settings": {"greeting": "acme"}})
    assert rhub.resolve_tenant("recorder", "acme") == org.tenant[0]
    assert rhub.resolve_tenant("recorder", "nobody") is None


def test_settings_validated_and_secrets_write_only(
    rhub: Hub, rclient: TestClient, org, caplog
) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    admin = _as(org.admin, rclient)
    r = admin.patch(
        "/api/v1/admin/plugins/recorder/",
        json={"settings": {"limit": 7, "api_key": "s3cr3t-value"}},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["settings"] == {"limit": 7}
    assert body["secrets_set"] == ["api_key"]
    assert "s3cr3t-value" not in r.text
    listing = admin.get("/api/v1/admin/plugins/").text
    assert "s3cr3t-value" not in listing
    assert rhub.config(org.tenant[0], "recorder").get("api_key") == "s3cr3t-value"
    with rhub.session() as s:
        row = s.scalar(select(TenantPlugin).where(TenantPlugin.plugin == "recorder"))
        assert "s3cr3t-value" not in (row.secrets_encrypted or "")
        assert "s3cr3t-value" not in str(row.settings)
    audit = rclient.get  # plugin actions are in the audit trail
    assert "s3cr3t-value" not in caplog.text
    r = admin.patch("/api/v1/admin/plugins/recorder/", json={"settings": {"limit": "many"}})
    assert r.status_code == 422 and "limit" in r.json()["detail"]
    r = admin.patch("/api/v1/admin/plugins/recorder/", json={"settings": {"nope": 1}})
    assert r.status_code == 422 and "nope" in r.json()["detail"]
    assert admin.patch("/api/v1/admin/plugins/missing/", json={"settings": {}}).status_code == 404
    del audit


def test_plugin_changes_are_audited(rhub: Hub, rclient: TestClient, org) -> None:  # type: ignore[no-untyped-def]
    from core.models import Audit

    admin = _as(org.admin, rclient)
    admin.post("/api/v1/admin/plugins/recorder/enable/")
    admin.patch("/api/v1/admin/plugins/recorder/", json={"settings": {"api_key": "zzz-secret"}})
    admin.post("/api/v1/admin/plugins/recorder/disable/")
    with rhub.session() as s:
        rows = s.scalars(
            select(Audit)
            .where(Audit.tenant_id == org.tenant[0], Audit.ticket_id.is_(None))
            .order_by(Audit.id)
        ).all()
        got = [(r.action, r.performed_by) for r in rows]
        assert got == [
            ("Plugin Enabled", org.admin.user_id),
            ("Plugin Configured", org.admin.user_id),
            ("Plugin Disabled", org.admin.user_id),
        ]
        assert all("zzz-secret" not in f"{r.old_value}{r.new_value}{r.details}" for r in rows)
