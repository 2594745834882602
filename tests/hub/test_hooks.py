"""One test per hook spec of core/hookspecs.py: each calls the hook through a real hub and checks
the call mode and the return contract its docstring states (the person-data hooks are tested
with the plugins that implement them, tests/plugins/chatbot and tests/plugins/email)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.api import (
    BackgroundService,
    EscalationTarget,
    HubContext,
    InboundMessage,
    PeriodicTask,
    PluginInfo,
    Suggestion,
    TicketEvent,
    hookimpl,
)
from core.models import OutboxEvent
from hub import outbox
from hub.app import create_app
from hub.builtins import plugins as builtin_plugins
from hub.context import Hub
from hub.plugins import make_plugin_manager
from hub.worker import periodic_tasks
from tests.hub.conftest import as_client
from tests.hub.recorder_plugin import Recorder

T = "/api/v1/support/tickets/"
NEW = {"subject": "Help", "description": "Please.", "category": "Other"}


def _traced(hub: Hub, settings: Any, *extra: tuple[str, object]) -> Hub:
    """A hub on the test database with ``HUB_TRACE_PLUGINS`` on and ``extra`` installed."""
    pm = make_plugin_manager(extra=[*builtin_plugins(), *extra], trace=True)
    return Hub(settings, pm=pm, engine=hub.engine)


def _trace(caplog: pytest.LogCaptureFixture, hook: str) -> list[str]:
    """The plugins each traced call of ``hook`` went to, in call order."""
    return [
        r.getMessage().split(" -> ", 1)[1]
        for r in caplog.records
        if r.name == "hub.plugins" and r.getMessage().startswith(f"hook {hook} -> ")
    ]


@pytest.fixture
def enabled(rhub: Hub, org) -> uuid.UUID:  # type: ignore[no-untyped-def]
    """The tenant of ``org``, with the recorder enabled."""
    rhub.set_enabled(org.tenant[0], "recorder", True, reason="test")
    return org.tenant[0]


# ------------------------------------------------------------------ app extension


def test_hook_hub_plugin_info(rhub: Hub) -> None:
    """Fan-out over every installed plugin, one PluginInfo each, whatever tenants enabled."""
    answers = rhub.pm.hook.hub_plugin_info()
    implementers = rhub.pm.hook.hub_plugin_info.get_hookimpls()
    assert len(answers) == len(implementers) and all(isinstance(a, PluginInfo) for a in answers)
    assert {"email", "slack", "teams", "jira", "pagerduty", "chatbot", "recorder"} <= set(
        rhub.infos
    )
    assert rhub.infos["recorder"].settings_model is not None
    assert all(info.name == name for name, info in rhub.infos.items())


def test_hook_hub_configure(rhub: Hub, recorder: Recorder) -> None:
    """Historic: called once when the hub is ready, and at once for a plugin registered later."""
    assert recorder.of("hub_configure") == [rhub]
    late = Recorder("late")
    rhub.pm.register(late, name="late")
    assert late.of("hub_configure") == [rhub]
    assert recorder.of("hub_configure") == [rhub]


def test_hook_hub_routes(rhub: Hub, rclient: TestClient, enabled: uuid.UUID, other_org) -> None:  # type: ignore[no-untyped-def]
    """Fan-out at app start; each router is mounted under /plugins/<name>, answering 404 for a
    tenant that has not enabled the plugin."""
    routers = [r for r in rhub.pm.hook.hub_routes(hub=rhub) if r is not None]
    assert len(routers) >= 7
    assert rclient.get(f"/plugins/recorder/ping/{enabled}").json() == {"pong": "hello"}
    assert rclient.get(f"/plugins/recorder/ping/{other_org.tenant[0]}").status_code == 404


def test_hook_hub_periodic_tasks(rhub: Hub, recorder: Recorder) -> None:
    """Fan-out; each plugin returns PeriodicTasks whose ``run(hub)`` beat calls."""
    groups = rhub.pm.hook.hub_periodic_tasks(hub=rhub)
    assert all(isinstance(t, PeriodicTask) for group in groups for t in group)
    tasks = periodic_tasks(rhub)
    assert {"recorder.tick", *(t.name for g in groups for t in g)} == set(tasks)
    tasks["recorder.tick"].run(rhub)
    assert recorder.of("tick") == [rhub]


def test_hook_hub_background_services(rhub: Hub, recorder: Recorder) -> None:
    """Fan-out; BackgroundServices with start and stop, the SMTP listener among them."""
    services = [s for group in rhub.pm.hook.hub_background_services(hub=rhub) for s in group]
    assert all(isinstance(s, BackgroundService) for s in services)
    mine = {s.name: s for s in services}
    assert "recorder" in mine and len(services) >= 2  # the email plugin's SMTP server too
    mine["recorder"].start()
    mine["recorder"].stop()
    assert recorder.of("start") == [1] and recorder.of("stop") == [1]


# ------------------------------------------------------------------ intake


def test_hook_hub_resolve_tenant(rhub: Hub, rclient: TestClient, org) -> None:  # type: ignore[no-untyped-def]
    """firstresult: one answer (not a list) from the plugin owning the channel, None otherwise."""
    admin = as_client(org.admin, rclient)
    admin.post("/api/v1/admin/plugins/recorder/enable/")
    admin.patch("/api/v1/admin/plugins/recorder/", json={"settings": {"greeting": "acme"}})
    answer = rhub.pm.hook.hub_resolve_tenant(channel="recorder", key="acme", hub=rhub)
    assert answer == org.tenant[0] == rhub.resolve_tenant("recorder", "acme")
    assert rhub.resolve_tenant("recorder", "nobody") is None
    assert rhub.resolve_tenant("no-such-channel", "acme") is None


def test_hook_hub_thread_message(
    rhub: Hub, rclient: TestClient, recorder: Recorder, enabled: uuid.UUID, org, other_org
) -> None:  # type: ignore[no-untyped-def]
    """firstresult on the tenant's relay: a ticket id continues that ticket; a tenant that has not
    enabled the plugin never asks it."""
    ticket = as_client(org.end_user, rclient).post(T, json=NEW).json()["id"]
    msg = InboundMessage(
        channel="recorder",
        dedupe_key="t1",
        sender_email=org.end_user.email,
        body="more",
        meta={"recorder_ticket": ticket},
    )
    with rhub.read_session() as s:
        assert (
            rhub.hooks(enabled).hub_thread_message(session=s, tenant_id=enabled, message=msg)
            == ticket
        )
    result = rhub.ingest(enabled, msg)
    assert result.outcome == "comment" and result.ticket_id == ticket
    recorder.calls.clear()
    other = InboundMessage(
        channel="recorder",
        dedupe_key="t1",
        sender_email=other_org.end_user.email,
        body="more",
        meta={"recorder_ticket": ticket},
    )
    assert rhub.ingest(other_org.tenant[0], other).outcome == "ticket"
    assert recorder.of("hub_thread_message") == []


# ------------------------------------------------------------------ notification


def _notifier(name: str, seen: list[str], fail: bool = False, **order: bool) -> object:
    class Notifier:
        @hookimpl(**order)
        def hub_notify(self, event: TicketEvent, hub: HubContext) -> None:
            if event.type != "ticket.created":
                return
            seen.append(name)
            if fail:
                raise ConnectionError(f"{name} is down")

    return Notifier()


def test_hook_hub_notify(hub: Hub, settings, org, caplog) -> None:  # type: ignore[no-untyped-def]
    """Fan-out from the outbox in pluggy's call order (tryfirst, latest registered first,
    trylast), each plugin alone: one that raises is retried alone, the others are done; and the
    hook-call monitoring (``HUB_TRACE_PLUGINS``) sees every call."""
    seen: list[str] = []
    traced = _traced(
        hub,
        settings,
        ("late", _notifier("late", seen, trylast=True)),
        ("plain", _notifier("plain", seen)),
        ("early", _notifier("early", seen, tryfirst=True)),
        ("flaky", _notifier("flaky", seen, fail=True)),
    )
    caplog.set_level(logging.WARNING, logger="hub.plugins")
    org.end_user.post(T, json=NEW)
    assert outbox.drain(traced) >= 1
    assert seen == ["early", "flaky", "plain", "late"]
    calls = [
        c
        for c in _trace(caplog, "hub_notify")
        if c not in ("['automation']", "['notifications']", "['duplicates']")
    ]
    assert calls[:4] == ["['early']", "['flaky']", "['plain']", "['late']"]
    with traced.read_session() as s:
        row = s.query(OutboxEvent).filter_by(event_type="ticket.created").one()
        assert row.status == "pending" and "hub_notify:flaky" in (row.last_error or "")
        assert {"hub_notify:early", "hub_notify:plain", "hub_notify:late"} <= set(row.done_plugins)
        assert "hub_notify:flaky" not in row.done_plugins


def test_hook_hub_send_mail(rhub: Hub, recorder: Recorder, enabled: uuid.UUID, other_org) -> None:  # type: ignore[no-untyped-def]
    """firstresult on the tenant's relay: the enabled plugin that can send answers with the
    Message-ID; a tenant where no plugin can send gets None, and the hub's mailer then reports
    the mail as not sent (no system relay here)."""
    from core.api import OutboundMail
    from hub import mailer

    mail = OutboundMail(tenant_id=enabled, to="ann@example.com", subject="Hi", text="Link")
    answer = rhub.hooks(enabled).hub_send_mail(mail=mail, hub=rhub)
    assert isinstance(answer, str) and answer.endswith("@recorder.test>")
    assert recorder.of("hub_send_mail") == [mail]
    assert mailer.send(rhub, mail).via == "tenant"
    other = other_org.tenant[0]
    elsewhere = OutboundMail(tenant_id=other, to="bo@example.com", subject="Hi", text="Link")
    assert rhub.hooks(other).hub_send_mail(mail=elsewhere, hub=rhub) is None
    assert recorder.of("hub_send_mail") == [mail, mail]
    assert mailer.send(rhub, elsewhere) == mailer.NOT_SENT


def test_hook_hub_notify_person(
    rhub: Hub, recorder: Recorder, enabled: uuid.UUID, other_org
) -> None:  # type: ignore[no-untyped-def]
    """firstresult on the tenant's relay: the enabled plugin that reaches the person answers
    True; a tenant without such a plugin gets None (the notice is then not claimed)."""

    from core.api import Person, PersonNotice

    person = Person(id=1, email="ann@example.com", name="Ann", role="agent")
    notice = PersonNotice(
        event_id=7,
        tenant_id=enabled,
        kind="assigned",
        channel="chat",
        person=person,
        ticket=None,
        subject="#1 was assigned to you",
        text="#1 was assigned to you.",
        url="http://hub.test/tickets/1",
    )
    assert rhub.hooks(enabled).hub_notify_person(notice=notice, hub=rhub) is True
    assert recorder.of("hub_notify_person") == [notice]
    other = other_org.tenant[0]
    elsewhere = PersonNotice(**{**notice.__dict__, "tenant_id": other})
    assert rhub.hooks(other).hub_notify_person(notice=elsewhere, hub=rhub) is None
    assert recorder.of("hub_notify_person") == [notice]


def test_hook_hub_merge_person(hub: Hub, org, other_org) -> None:  # type: ignore[no-untyped-def]
    """Fan-out on the tenant's relay, in the caller's session: each enabled plugin moves what it
    holds of the source and says how many records; a plugin the tenant has not enabled is not
    asked (its links stay as they are)."""
    from sqlalchemy import select

    from core.models import TenantPlugin

    link = {"user:T1:U1": {"email": "old@example.com", "name": "Pat"}}
    for tenant in (org.tenant[0], other_org.tenant[0]):
        hub.set_enabled(tenant, "slack", tenant == org.tenant[0], reason="test")
        with hub.session() as s:
            row = s.scalar(
                select(TenantPlugin).where(
                    TenantPlugin.tenant_id == tenant, TenantPlugin.plugin == "slack"
                )
            )
            assert row is not None
            row.state = dict(link)
    args = {"source_id": 1, "source_email": "Old@example.com", "target_id": 2}
    for tenant in (org.tenant[0], other_org.tenant[0]):
        with hub.session() as s:
            results = hub.hooks(tenant).hub_merge_person(
                session=s, tenant_id=tenant, target_email="new@example.com", hub=hub, **args
            )
        assert isinstance(results, list) and all(isinstance(n, int) for n in results)
        assert sum(results) == (1 if tenant == org.tenant[0] else 0)
    with hub.session() as s:
        states = dict(
            s.execute(
                select(TenantPlugin.tenant_id, TenantPlugin.state).where(
                    TenantPlugin.plugin == "slack"
                )
            ).all()
        )
    assert states[org.tenant[0]]["user:T1:U1"]["email"] == "new@example.com"
    assert states[other_org.tenant[0]] == link


def test_hook_hub_check_connection(rhub: Hub, enabled: uuid.UUID) -> None:
    """firstresult on the hub's plugin manager: the plugin named answers for itself (a Slack
    with no bot token says so, in words, without calling Slack); a name no plugin answers to
    gets None, which the admin page shows as "has no connection test"."""
    from core.api import ConnectionCheck

    found = rhub.pm.hook.hub_check_connection(plugin="slack", tenant_id=enabled, hub=rhub)
    assert found == ConnectionCheck(
        False, "No bot token is set: paste the app's xoxb- token first."
    )
    assert rhub.pm.hook.hub_check_connection(plugin="nobody", tenant_id=enabled, hub=rhub) is None
    checkable = {i.plugin_name for i in rhub.pm.hook.hub_check_connection.get_hookimpls()}
    assert {"email", "slack", "teams", "jira", "pagerduty"} <= checkable


# ------------------------------------------------------------------ escalation


@pytest.fixture
def traced_client(hub: Hub, settings, recorder: Recorder) -> Iterator[tuple[Hub, TestClient]]:  # type: ignore[no-untyped-def]
    traced = _traced(hub, settings, ("recorder", recorder))
    with TestClient(create_app(traced), raise_server_exceptions=False) as c:
        yield traced, c


def test_hook_hub_escalate(traced_client, recorder: Recorder, org, caplog) -> None:  # type: ignore[no-untyped-def]
    """Fan-out from the outbox; a result is audited on the ticket, None (not concerned) is not;
    the built-in admin escalation is trylast, so it runs after the plugins."""
    traced, client = traced_client
    traced.set_enabled(org.tenant[0], "recorder", True, reason="test")
    caplog.set_level(logging.WARNING, logger="hub.plugins")
    ticket = as_client(org.end_user, client).post(T, json=NEW).json()["id"]
    agent = as_client(org.agent, client)
    assert agent.post(f"{T}{ticket}/escalate/", json={"target": "recorder"}).status_code == 202
    outbox.drain(traced)
    assert [e.target for e in recorder.of("hub_escalate")] == ["recorder"]
    calls = _trace(caplog, "hub_escalate")
    assert calls.index("['recorder']") < calls.index("['admin-escalation']")
    audit = agent.get(f"{T}{ticket}/audit/").json()
    escalated = [a for a in audit if a["action"] == "Escalated"]
    assert [a["new_value"] for a in escalated] == [f"REC-{ticket}"]


def test_hook_hub_escalation_targets(
    rhub: Hub, rclient: TestClient, enabled: uuid.UUID, org, other_org
) -> None:  # type: ignore[no-untyped-def]
    """Fan-out on the tenant's relay: lists of EscalationTargets, offered as the agent's choices."""
    groups = rhub.hooks(enabled).hub_escalation_targets(tenant_id=enabled, hub=rhub)
    offered = [t for group in groups for t in group]
    assert all(isinstance(t, EscalationTarget) for t in offered)
    assert ("recorder", "recorder") in {(t.plugin, t.target) for t in offered}
    other = other_org.tenant[0]
    groups = rhub.hooks(other).hub_escalation_targets(tenant_id=other, hub=rhub)
    assert all(t.plugin != "recorder" for group in groups for t in group)
    ticket = as_client(org.end_user, rclient).post(T, json=NEW).json()["id"]
    listed = as_client(org.agent, rclient).get(f"{T}{ticket}/escalation-targets/").json()
    assert {"plugin": "recorder", "target": "recorder", "label": "Record it"} in listed


# ------------------------------------------------------------------ knowledge base


def test_hook_hub_kb_suggest(rhub: Hub, enabled: uuid.UUID, other_org) -> None:  # type: ignore[no-untyped-def]
    """Fan-out on the tenant's relay: one list of Suggestions per ranker, the built-in full-text
    ranker (trylast) last, so another ranker joins it."""
    lists = rhub.hooks(enabled).hub_kb_suggest(
        tenant_id=enabled, text="vpn", limit=3, audience="public", hub=rhub
    )
    assert len(lists) == 2
    assert all(isinstance(s, Suggestion) for found in lists for s in found)
    assert [s.source for s in lists[0]] == ["recorder"]
    other = other_org.tenant[0]
    lists = rhub.hooks(other).hub_kb_suggest(
        tenant_id=other, text="vpn", limit=3, audience="public", hub=rhub
    )
    assert len(lists) == 1 and all(s.source != "recorder" for s in lists[0])


# ------------------------------------------------------------------ admin tables


def test_hook_hub_admin_tables(rhub: Hub, org) -> None:  # type: ignore[no-untyped-def]
    """Fan-out over the plugins the tenant enabled: each gives its own tables (the email
    plugin: parked mail, bouncing addresses, bounce reports), none when it is off."""
    from core.api import AdminTable

    tenant_id = org.tenant[0]
    off = [
        t
        for ts in rhub.hooks(tenant_id).hub_admin_tables(tenant_id=tenant_id, hub=rhub)
        for t in ts or ()
    ]
    assert "email" not in {t.plugin for t in off}
    rhub.set_enabled(tenant_id, "email", True, reason="test")
    found = [
        t
        for ts in rhub.hooks(tenant_id).hub_admin_tables(tenant_id=tenant_id, hub=rhub)
        for t in ts or ()
    ]
    assert all(isinstance(t, AdminTable) for t in found)
    assert {("email", "parked"), ("email", "failing"), ("email", "bounces")} <= {
        (t.plugin, t.key) for t in found
    }
    assert all(a in t.actions for t in found for r in t.rows for a in r.actions)


def test_hook_hub_admin_action(rhub: Hub, org) -> None:  # type: ignore[no-untyped-def]
    """firstresult: the plugin named answers for itself, in words (a row that is gone is
    ok=False, not an exception); a name no plugin answers to gets None."""
    from core.api import AdminActionResult

    tenant_id = org.tenant[0]
    rhub.set_enabled(tenant_id, "email", True, reason="test")
    kwargs: dict[str, Any] = {
        "tenant_id": tenant_id,
        "table": "failing",
        "row_id": "nobody@example.com",
        "action": "clear",
        "actor_id": org.admin.user_id,
        "hub": rhub,
    }
    found = rhub.pm.hook.hub_admin_action(plugin="email", **kwargs)
    assert found == AdminActionResult(
        False, "nobody@example.com is not a bouncing address any more."
    )
    assert rhub.pm.hook.hub_admin_action(plugin="nobody", **kwargs) is None
