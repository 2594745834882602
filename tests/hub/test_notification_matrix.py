"""The test walks the matrix: every event, every recipient kind, every channel.

Each scenario acts through the API (or emits the event as the SLA sweep does), the outbox is
drained for real, and what arrived is read back where people read it: in-app rows through the
API, mail from the operator's relay (a local SMTP sink, parsed with the stdlib), chat DMs from the
recording plugin's ``hub_notify_person``. What is expected comes from ``MATRIX`` and the rules
(never the actor, staff-only never to end users, chat for staff, threaded mail is the email
plugin's), so the assertion says both who got it and who did not.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.api import Capability, HubContext, PersonNotice, PluginInfo, hookimpl
from core.automation.models import AutomationSettings
from core.notifications import matrix
from core.permissions import system_actor
from core.services import events
from core.services.refs import add_ticket_ref
from hub import outbox
from hub.builtins import plugins as builtin_plugins
from hub.context import Hub
from hub.plugins import make_plugin_manager
from tests.conftest import Member
from tests.hub.conftest import as_client
from tests.smtp_sink import Sink, system_relay

T = "/api/v1/support/tickets/"
NEW = {"subject": "VPN drops", "description": "Every hour.", "category": "Technical Issue"}


class ChatFake:
    """A chat plugin that reaches every person (a Slack or Teams stand-in): it keeps the DMs.
    Slack's own DM is tested against its fake in tests/plugins/slack/test_notify_person.py."""

    name = "chatfake"

    def __init__(self) -> None:
        self.dms: list[PersonNotice] = []

    @hookimpl
    def hub_plugin_info(self) -> PluginInfo:
        return PluginInfo(name=self.name, title="Chat fake", capabilities=(Capability.NOTIFY,))

    @hookimpl
    def hub_notify_person(self, notice: PersonNotice, hub: HubContext) -> bool | None:
        self.dms.append(notice)
        return True


@pytest.fixture
def chat() -> ChatFake:
    return ChatFake()


@pytest.fixture
def rhub(hub: Hub, settings, chat: ChatFake) -> Hub:  # type: ignore[no-untyped-def]
    """A hub on the test database with the chat fake beside the real plugins."""
    pm = make_plugin_manager(extra=[*builtin_plugins(), ("chatfake", chat)])
    return Hub(settings, pm=pm, engine=hub.engine)


@dataclass
class Cast:
    requester: Member
    assignee: Member
    other_agent: Member
    admin: Member
    watcher: Member
    everyone: list[Member]


@pytest.fixture
def world(rhub: Hub, rclient: TestClient, org, make_member, settings):  # type: ignore[no-untyped-def]
    rhub.set_enabled(org.tenant[0], "chatfake", True, reason="test")
    with rhub.session() as s:  # no auto-assignment: the scenarios choose the assignee
        s.add(AutomationSettings(tenant_id=org.tenant[0], assign_mode="off", auto_respond=False))
    people = [
        as_client(m, rclient)
        for m in (
            org.end_user,
            org.agent,
            make_member(org.tenant, "agent"),
            org.admin,
            make_member(org.tenant, "end_user"),
        )
    ]
    cast = Cast(*people, everyone=people)
    with system_relay(settings) as sink:
        yield cast, sink


def _count(hub: Hub, cast: Cast, sink: Sink, recorder: ChatFake, ticket_id: int) -> Counter:
    """How many of each (person email, channel) were delivered about this ticket so far."""
    out: Counter = Counter()
    for m in cast.everyone:
        for n in m.get("/api/v1/notifications/?unread=false").json():
            if n["ticket_id"] == ticket_id:
                out[(m.email, matrix.IN_APP)] += 1
    for msg in sink.messages():
        if re.search(rf"#{ticket_id}\b", str(msg["Subject"])):
            out[(str(msg["To"]), matrix.EMAIL)] += 1
    for notice in recorder.dms:
        if notice.ticket is not None and notice.ticket.id == ticket_id:
            out[(notice.person.email, matrix.CHAT)] += 1
    return out


class _Seen:
    """What arrived since the last look (each (person, channel) at most once per event)."""

    def __init__(self, hub: Hub, cast: Cast, sink: Sink, recorder: ChatFake, tid: int) -> None:
        self.args = (hub, cast, sink, recorder, tid)
        self.last = _count(*self.args)

    def new(self) -> set:
        now = _count(*self.args)
        grew = {k: now[k] - self.last[k] for k in now if now[k] > self.last[k]}
        self.last = now
        assert all(v == 1 for v in grew.values()), grew  # one per event, person and channel
        return set(grew)


def _expected(kinds: list[str], roles: dict[str, list[Member]], acted: set[str]) -> set:
    """What the matrix and its rules promise for these kinds and this cast."""
    out = set()
    # One mail per person and event: whoever gets the thread's mail (the email plugin's) gets
    # no separate notice by mail.
    threaded = {
        m.email
        for kind in kinds
        for recipient in matrix.MATRIX[kind]
        for m in roles.get(recipient, [])
        if matrix.threaded(kind, recipient, matrix.EMAIL)
        and matrix.EMAIL in matrix.channels(kind, recipient)
        and m.email not in acted
    }
    for kind in kinds:
        for recipient, chans in matrix.MATRIX[kind].items():
            for m in roles.get(recipient, []):
                end_user = m.role == "end_user"
                for channel in chans:
                    if m.email in acted and (kind, recipient, channel) != (
                        matrix.CREATED,
                        matrix.REQUESTER,
                        matrix.EMAIL,
                    ):
                        continue
                    if end_user and (
                        kind in matrix.STAFF_ONLY
                        or channel == matrix.CHAT
                        or recipient not in matrix.END_USER_RECIPIENTS
                    ):
                        continue
                    if matrix.threaded(kind, recipient, channel):
                        continue  # the email plugin's, tested in tests/plugins/email
                    if channel == matrix.EMAIL and m.email in threaded:
                        continue
                    out.add((m.email, channel))
    return out


def _ticket(cast: Cast, *, assigned: bool = True, watched: bool = True, hub: Hub) -> int:
    tid = int(cast.requester.post(T, json=NEW).json()["id"])
    if assigned:
        r = cast.admin.patch(f"{T}{tid}/", json={"assigned_to": cast.assignee.user_id})
        assert r.status_code == 200, r.text
    if watched:
        with hub.session() as s:
            add_ticket_ref(s, cast.requester.tenant_id, tid, "participant", cast.watcher.email)
    outbox.drain(hub)
    return tid


def _emit(hub: Hub, cast: Cast, tid: int, event_type: str, payload: dict[str, Any]) -> None:
    with hub.session() as s:
        events.emit(
            s,
            system_actor(cast.requester.tenant_id),
            event_type,
            tenant_id=cast.requester.tenant_id,
            ticket_id=tid,
            payload=payload,
        )


Step = Callable[[Cast, int, Hub], tuple[list[str], Member | None]]


def _patch(who: str, body: dict[str, Any], kinds: list[str]) -> Step:
    def step(cast: Cast, tid: int, hub: Hub) -> tuple[list[str], Member | None]:
        actor = getattr(cast, who)
        r = actor.patch(f"{T}{tid}/", json=body)
        assert r.status_code == 200, r.text
        return kinds, actor

    return step


def _comment(who: str, body: dict[str, Any], kinds: list[str]) -> Step:
    def step(cast: Cast, tid: int, hub: Hub) -> tuple[list[str], Member | None]:
        actor = getattr(cast, who)
        text = body["comment"].format(
            agent=cast.other_agent.email, watcher=cast.watcher.email.split("@")[0]
        )
        r = actor.post(f"{T}{tid}/comment/", json={**body, "comment": text})
        assert r.status_code == 201, r.text
        return kinds, actor

    return step


def _system(event_type: str, payload: dict[str, Any], kinds: list[str]) -> Step:
    def step(cast: Cast, tid: int, hub: Hub) -> tuple[list[str], Member | None]:
        _emit(hub, cast, tid, event_type, payload)
        return kinds, None

    return step


def _escalate(cast: Cast, tid: int, hub: Hub) -> tuple[list[str], Member | None]:
    r = cast.other_agent.post(f"{T}{tid}/escalate/", json={"target": "admin", "note": "help"})
    assert r.status_code == 202, r.text
    return [matrix.ESCALATION], cast.other_agent


def _merge(cast: Cast, tid: int, hub: Hub) -> tuple[list[str], Member | None]:
    into = int(cast.requester.post(T, json=NEW).json()["id"])
    r = cast.other_agent.post(f"{T}{tid}/merge/", json={"target_id": into})
    assert r.status_code in (200, 201), r.text
    return [matrix.MERGE], cast.other_agent


SCENARIOS: dict[str, Step] = {
    matrix.ASSIGNED: _patch("admin", {}, [matrix.ASSIGNED]),  # the assignee's id: in the test
    matrix.STATUS_CHANGED: _patch("assignee", {"status": "Pending"}, [matrix.STATUS_CHANGED]),
    matrix.AGENT_REPLY: _comment("assignee", {"comment": "Try again."}, [matrix.AGENT_REPLY]),
    matrix.REQUESTER_REPLY: _comment(
        "requester", {"comment": "Still down."}, [matrix.REQUESTER_REPLY]
    ),
    matrix.INTERNAL_NOTE: _comment(
        "other_agent",
        {"comment": "Looks like the VPN box.", "is_internal": True},
        [matrix.INTERNAL_NOTE],
    ),
    matrix.RESOLVED: _patch("assignee", {"status": "Resolved"}, [matrix.RESOLVED]),
    matrix.CLOSED: _patch("assignee", {"status": "Closed"}, [matrix.CLOSED]),
    matrix.MENTION: _comment(
        "assignee",
        {"comment": "@{agent} and @{watcher}, please look."},
        [matrix.AGENT_REPLY, matrix.MENTION],
    ),
    matrix.SLA_WARNING: _system(
        "sla.warning", {"sla_target": "resolution", "due_at": "soon"}, [matrix.SLA_WARNING]
    ),
    matrix.SLA_BREACH: _system(
        "sla.breached", {"sla_target": "resolution", "due_at": "now"}, [matrix.SLA_BREACH]
    ),
    matrix.ESCALATION: _escalate,
    matrix.MERGE: _merge,
}


def _roles(cast: Cast, kinds: list[str], assigned: bool) -> dict[str, list[Member]]:
    roles = {
        matrix.REQUESTER: [cast.requester],
        matrix.ASSIGNEE: [cast.assignee] if assigned else [],
        # Unassigned and the tenant default "all_agents": every agent and admin.
        matrix.AGENTS: [] if assigned else [cast.assignee, cast.other_agent, cast.admin],
        matrix.ADMINS: [cast.admin],
        # A merge moves the source's participants to the target: the source has none left.
        matrix.WATCHERS: [] if matrix.MERGE in kinds else [cast.watcher],
        matrix.MENTIONED: [cast.other_agent, cast.watcher] if matrix.MENTION in kinds else [],
    }
    return roles


@pytest.mark.parametrize("kind", sorted(SCENARIOS))
def test_each_event_reaches_exactly_whom_the_matrix_names(  # type: ignore[no-untyped-def]
    kind: str, rhub: Hub, world, chat: ChatFake
) -> None:
    cast, sink = world
    tid = _ticket(cast, hub=rhub)
    if kind == matrix.ASSIGNED:
        r = cast.admin.patch(f"{T}{tid}/", json={"assigned_to": None})
        assert r.status_code == 200
        outbox.drain(rhub)
    seen = _Seen(rhub, cast, sink, chat, tid)
    step = SCENARIOS[kind]
    if kind == matrix.ASSIGNED:
        kinds, actor = _patch("admin", {"assigned_to": cast.assignee.user_id}, [kind])(
            cast, tid, rhub
        )
    else:
        kinds, actor = step(cast, tid, rhub)
    outbox.drain(rhub)
    got = seen.new()
    acted = {actor.email} if actor is not None else set()
    expected = _expected(kinds, _roles(cast, kinds, assigned=True), acted)
    assert got == expected, (kind, sorted(got ^ expected))
    assert all(email not in acted for email, _ in got)
    assert got, f"{kind}: nobody was told"


def test_a_reassignment_tells_the_previous_assignee_where_it_went(  # type: ignore[no-untyped-def]
    rhub: Hub, world, chat: ChatFake
) -> None:
    cast, sink = world
    tid = _ticket(cast, hub=rhub)  # assigned to cast.assignee
    seen = _Seen(rhub, cast, sink, chat, tid)
    r = cast.admin.patch(f"{T}{tid}/", json={"assigned_to": cast.other_agent.user_id})
    assert r.status_code == 200, r.text
    outbox.drain(rhub)
    got = seen.new()
    roles = _roles(cast, [matrix.ASSIGNED], assigned=True)
    roles[matrix.ASSIGNEE] = [cast.other_agent]
    roles[matrix.PREVIOUS_ASSIGNEE] = [cast.assignee]
    assert got == _expected([matrix.ASSIGNED], roles, {cast.admin.email})
    texts = [
        n["text"]
        for n in cast.assignee.get("/api/v1/notifications/?unread=false").json()
        if n["ticket_id"] == tid and n["kind"] == matrix.ASSIGNED
    ]
    # Its first assignment said "assigned to you"; the reassignment says where it went.
    assert sorted(t.split(" was ")[1].split(" to ")[0] for t in texts) == ["assigned", "reassigned"]
    assert sum("assigned to you" in t for t in texts) == 1, texts


def test_created_and_reopened_reach_the_agents_of_an_unassigned_ticket(  # type: ignore[no-untyped-def]
    rhub: Hub, world, chat: ChatFake
) -> None:
    cast, sink = world
    tid = _ticket(cast, assigned=False, watched=False, hub=rhub)
    seen = _Seen(rhub, cast, sink, chat, tid)
    got = set(seen.last)
    roles = _roles(cast, [matrix.CREATED], assigned=False)
    roles[matrix.WATCHERS] = []  # the watcher joined after the creation
    assert got == _expected([matrix.CREATED], roles, {cast.requester.email})
    assert (cast.requester.email, matrix.IN_APP) not in got  # who acted is never told
    cast.assignee.patch(f"{T}{tid}/", json={"status": "Resolved"})
    outbox.drain(rhub)
    seen.new()
    cast.requester.post(f"{T}{tid}/comment/", json={"comment": "It is back."})  # reopens it
    outbox.drain(rhub)
    got = seen.new()
    assert (cast.other_agent.email, matrix.IN_APP) in got  # requester reply, unassigned
    assert (cast.requester.email, matrix.IN_APP) not in got


def test_nobody_setting_preferences_and_exactly_once(  # type: ignore[no-untyped-def]
    rhub: Hub, world, chat: ChatFake
) -> None:
    cast, sink = world
    r = cast.admin.client.put(
        "/api/v1/admin/notifications/",
        headers=cast.admin.headers,
        json={"unassigned": "nobody", "defaults": {}},
    )
    assert r.status_code == 200, r.text
    tid = _ticket(cast, assigned=False, watched=False, hub=rhub)
    seen = _Seen(rhub, cast, sink, chat, tid)
    assert set(seen.last) == set()  # nobody hears of it
    # The assignee turns assignment mail off: in-app and chat stay, the mail does not come.
    r = cast.assignee.client.put(
        "/api/v1/notifications/preferences/",
        headers=cast.assignee.headers,
        json={"choices": {"assigned:email": False}},
    )
    assert r.status_code == 200, r.text
    assert {"kind": "assigned", "channel": "email"} in [
        {"kind": x["kind"], "channel": x["channel"]} for x in r.json() if not x["enabled"]
    ]
    cast.admin.patch(f"{T}{tid}/", json={"assigned_to": cast.assignee.user_id})
    outbox.drain(rhub)
    got = seen.new()
    assert (cast.assignee.email, matrix.IN_APP) in got
    assert (cast.assignee.email, matrix.CHAT) in got
    assert (cast.assignee.email, matrix.EMAIL) not in got
    # A requester cannot turn off the mail with an agent's reply; bad keys are a 422.
    r = cast.requester.client.put(
        "/api/v1/notifications/preferences/",
        headers=cast.requester.headers,
        json={"choices": {"agent_reply:email": False}},
    )
    locked = [x for x in r.json() if x["kind"] == "agent_reply" and x["channel"] == "email"]
    assert locked and locked[0]["enabled"] and locked[0]["locked"]
    assert not any(x["kind"] in matrix.STAFF_ONLY for x in r.json())
    r = cast.requester.client.put(
        "/api/v1/notifications/preferences/",
        headers=cast.requester.headers,
        json={"choices": {"nonsense:email": False}},
    )
    assert r.status_code == 422 and "kind:channel" in r.text
    # Redelivering every event changes nothing: one row per (event, person, channel).
    rows = cast.assignee.get("/api/v1/notifications/?unread=false").json()
    from sqlalchemy import update

    from core.models import OutboxEvent

    with rhub.session() as s:
        s.execute(update(OutboxEvent).values(status="pending", done_plugins={}))
    outbox.drain(rhub)
    assert cast.assignee.get("/api/v1/notifications/?unread=false").json() == rows


def test_mark_read_one_and_all_and_isolation(  # type: ignore[no-untyped-def]
    rhub: Hub, world, chat: ChatFake, other_org
) -> None:
    cast, _ = world
    tid = _ticket(cast, hub=rhub)
    cast.requester.post(f"{T}{tid}/comment/", json={"comment": "Any news?"})
    cast.assignee.post(f"{T}{tid}/comment/", json={"comment": "Working on it."})
    outbox.drain(rhub)
    unread = cast.assignee.get("/api/v1/notifications/").json()
    assert len(unread) >= 2 and all(n["ticket_id"] == tid for n in unread)
    first = unread[0]["id"]
    other = as_client(other_org.agent, cast.assignee.client)
    assert other.post(f"/api/v1/notifications/{first}/read").status_code == 404
    assert cast.requester.post(f"/api/v1/notifications/{first}/read").status_code == 404
    assert cast.assignee.post(f"/api/v1/notifications/{first}/read").status_code == 200
    left = cast.assignee.get("/api/v1/notifications/").json()
    assert first not in [n["id"] for n in left] and len(left) == len(unread) - 1
    assert cast.assignee.post("/api/v1/notifications/read-all").json()["marked"] == len(left)
    assert cast.assignee.get("/api/v1/notifications/").json() == []
    # The requester's own in-app notices of the reply stay theirs.
    assert cast.requester.get("/api/v1/notifications/").json()


def test_readme_holds_the_matrix_table() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert matrix.markdown() in readme
    assert matrix.check() == []


def test_end_users_mention_and_internal_mentions_stay_with_staff(  # type: ignore[no-untyped-def]
    rhub: Hub, world, chat: ChatFake
) -> None:
    """A requester @mentions an agent (told in the app, by mail and DM); an internal note
    that @mentions an end user on the ticket tells them nothing."""
    cast, sink = world
    tid = _ticket(cast, hub=rhub)
    seen = _Seen(rhub, cast, sink, chat, tid)
    handle = cast.other_agent.email.split("@")[0]
    r = cast.requester.post(f"{T}{tid}/comment/", json={"comment": f"@{handle} can you help?"})
    assert r.status_code == 201, r.text
    outbox.drain(rhub)
    got = seen.new()
    for channel in (matrix.IN_APP, matrix.EMAIL, matrix.CHAT):
        assert (cast.other_agent.email, channel) in got
    assert not any(email == cast.requester.email for email, _ in got)
    r = cast.assignee.post(
        f"{T}{tid}/comment/",
        json={"comment": f"@{cast.watcher.email} must not see this", "is_internal": True},
    )
    assert r.status_code == 201, r.text
    outbox.drain(rhub)
    got = seen.new()
    assert not any(email in (cast.watcher.email, cast.requester.email) for email, _ in got)
    assert (cast.other_agent.email, matrix.IN_APP) not in got  # assigned: "agents" is nobody


def test_a_tenant_template_words_the_staff_mail(world, rhub) -> None:  # type: ignore[no-untyped-def]
    """The assignee's mail is the tenant's own "assignment" template (multipart, its variables
    filled), not the matrix's built-in words."""
    cast, sink = world
    r = cast.admin.put(
        "/api/v1/admin/email-templates/assignment/",
        json={
            "subject": "Yours now: #{{ ticket.id }} {{ ticket.subject }}",
            "text_body": "Hello {{ recipient.name }}, {{ actor.name }} gave you this one.",
        },
    )
    assert r.status_code == 200, r.text
    tid = _ticket(cast, watched=False, hub=rhub)
    mails = [m for m in sink.messages() if str(m["To"]) == cast.assignee.email]
    assert [str(m["Subject"]) for m in mails] == [f"Yours now: #{tid} {NEW['subject']}"]
    parts = {p.get_content_type(): p.get_content() for p in mails[0].walk() if not p.is_multipart()}
    assert "gave you this one" in parts["text/plain"] and "text/html" in parts
