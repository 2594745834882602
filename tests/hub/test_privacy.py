"""Person data end to end: an export holds everything planted for the person in core and every
plugin (a third-party one too) and nothing of another person; an erasure leaves none of their
identifiers in any text or JSON column of any table nor in any blob; legal holds block both
erasure and retention; retention under a frozen clock, in batches, resumes after a crash
without doing anything twice."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import JSON, String, func, select, text

from core import clock
from core.api import Capability, HubContext, PersonRecord, PluginInfo, hookimpl
from core.audit_chain import CHECKPOINT_INFO, verify
from core.db import Base
from core.models import Comment, InboundKey, Ticket, User
from core.permissions import Actor
from core.privacy import policy, retention
from core.privacy.models import RetentionRun
from hub.app import create_app
from hub.builtins import plugins as builtin_plugins
from hub.context import Hub
from hub.plugins import make_plugin_manager
from plugins.chatbot import store
from plugins.email.models import Bounce, ParkedMessage, SentMail
from tests.conftest import Member, TenantSet
from tests.hub import report_sums
from tests.hub.conftest import as_client
from tests.samples import PNG

T = "/api/v1/support/tickets/"
NAME = "Annabel Quistorp"


class CrmPlugin:
    """A third-party plugin: it keeps one contact per address and takes part in the hooks."""

    name = "crm"

    def __init__(self) -> None:
        self.contacts: dict[tuple[uuid.UUID, str], str] = {}

    @hookimpl
    def hub_plugin_info(self) -> PluginInfo:
        return PluginInfo(name=self.name, title="CRM", capabilities=(Capability.INTAKE,))

    @hookimpl
    def hub_person_data(
        self, tenant_id: uuid.UUID, email: str, hub: HubContext
    ) -> list[PersonRecord]:
        note = self.contacts.get((tenant_id, email.lower()))
        if note is None:
            return []
        return [PersonRecord("crm", "contact", email.lower(), None, {"note": note})]

    @hookimpl
    def hub_erase_person(self, tenant_id: uuid.UUID, email: str, hub: HubContext) -> int:
        return 1 if self.contacts.pop((tenant_id, email.lower()), None) is not None else 0


@pytest.fixture
def crm() -> CrmPlugin:
    return CrmPlugin()


@pytest.fixture
def phub(hub: Hub, settings, crm: CrmPlugin) -> Hub:  # type: ignore[no-untyped-def]
    pm = make_plugin_manager(extra=[*builtin_plugins(), ("crm", crm)])
    return Hub(settings, pm=pm, engine=hub.engine)


@pytest.fixture
def pclient(phub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(phub), raise_server_exceptions=False) as c:
        yield c


def _plant(hub: Hub, org: TenantSet, who: Member, crm: CrmPlugin, tag: str) -> dict[str, Any]:
    """Data of ``who`` in core and in every plugin; ``tag`` marks it in every text."""
    tenant = org.tenant[0]
    for plugin in ("email", "slack", "teams", "jira", "pagerduty", "chatbot", "crm"):
        hub.set_enabled(tenant, plugin, True, reason="test")
    r = who.post(
        T,
        json={
            "subject": f"VPN {tag}",
            "description": f"It drops. {tag}",
            "category": "Technical Issue",
        },
    )
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    assert who.post(f"{T}{tid}/comment/", json={"comment": f"still {tag}"}).status_code == 201
    agent = org.agent
    assert agent.post(f"{T}{tid}/comment/", json={"comment": f"Hi {tag}"}).status_code == 201
    internal = {"comment": f"internal about {tag}", "is_internal": True}
    assert agent.post(f"{T}{tid}/comment/", json=internal).status_code == 201
    att = who.post(
        f"{T}{tid}/attachment/", files={"file": (f"{tag}.png", io.BytesIO(PNG), "image/png")}
    )
    assert att.status_code == 201, att.text
    raw = f"From: {tag} <{who.email}>\r\nSubject: vpn\r\n\r\nraw body {tag}\r\n".encode()
    parked_raw = f"From: {who.email}\r\nSubject: parked\r\n\r\nparked {tag}\r\n".encode()
    slack_id, teams_id = f"U{tag.upper()[:6]}9", f"aad-{tag}-9"
    with hub.session() as s:
        ticket = s.get(Ticket, tid)
        assert ticket is not None
        ticket.satisfaction_rating, ticket.feedback = 5, f"great, {tag}"
        s.add(
            InboundKey(
                tenant_id=tenant,
                channel="email",
                key=f"<{tag}@mail>",
                ticket_id=tid,
                raw_path=hub.blob_store.put(raw),
            )
        )
        s.add(
            SentMail(
                tenant_id=tenant,
                event_id=abs(hash(tag)) % 10**6,
                ticket_id=tid,
                recipient=who.email,
                message_id=f"<sent-{tag}@hub>",
                automatic=False,
                created_at=clock.now(),
            )
        )
        s.add(
            Bounce(
                tenant_id=tenant,
                dedupe_key=f"b-{tag}",
                recipients=[who.email],
                marked=[],
                created_at=clock.now(),
            )
        )
        s.add(
            ParkedMessage(
                tenant_id=tenant,
                source="smtp",
                reason="no ticket",
                raw_path=hub.blob_store.put(parked_raw),
                created_at=clock.now(),
            )
        )
        from core.api import add_ticket_ref

        add_ticket_ref(s, tenant, tid, "slack_thread", f"T1:D{tag[:4].upper()}:1.{len(tag)}")
        add_ticket_ref(s, tenant, tid, "teams_conversation", f"conv-{tag}")
        add_ticket_ref(s, tenant, tid, "jira_issue", f"OPS-{len(tag)}{tid}")
        add_ticket_ref(s, tenant, tid, "pagerduty_incident", f"P{tid}{len(tag)}")
        chat, _ = store.create_session(s, tenant, "203.0.113.7")
        chat.email = who.email
        store.add_message(s, chat, "user", f"chat line {tag}")
    hub.save_state(tenant, "slack", {f"user:T1:{slack_id}": {"email": who.email, "name": tag}})
    hub.save_state(tenant, "teams", {f"user:{teams_id}": {"email": who.email, "name": tag}})
    crm.contacts[(tenant, who.email.lower())] = f"crm note {tag}"
    return {"ticket": tid, "slack": slack_id, "teams": teams_id}


def _named(hub: Hub, member: Member, name: str) -> Member:
    with hub.session() as s:
        user = s.get(User, member.user_id)
        assert user is not None
        user.full_name = name
    return member


@pytest.fixture
def people(phub: Hub, pclient: TestClient, org: TenantSet, make_member, crm) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    blobs_before = _blob_files(phub)
    for role in ("end_user", "agent", "admin", "manager"):
        setattr(org, role, as_client(getattr(org, role), pclient))
    ann = _named(phub, org.end_user, NAME)
    bob = _named(phub, as_client(make_member(org.tenant, "end_user"), pclient), "Bartholomew Zeng")
    return {
        "ann": ann,
        "bob": bob,
        "ann_ids": _plant(phub, org, ann, crm, NAME),
        "bob_ids": _plant(phub, org, bob, crm, "Bartholomew Zeng"),
        "blobs_before": blobs_before,
    }


def _export(member: Member, url: str) -> zipfile.ZipFile:
    r = member.post(url)
    assert r.status_code == 202, r.text
    status = member.get(f"/api/v1/privacy/exports/{r.json()['id']}/").json()
    assert status["status"] == "done", status
    assert status["progress"] == status["total"] > 0
    got = member.client.get(status["download_url"])
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(got.content))


def _all_text(zf: zipfile.ZipFile) -> str:
    return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())


def test_export_holds_everything_of_the_person_and_nothing_of_another(
    people: dict[str, Any], org: TenantSet
) -> None:
    """The person's own export: person, tickets with the comments they may see (no internal
    note), attachment bytes, raw mail, rating, and each plugin's records (the third-party
    one's too); nothing of Bob. An admin's export of the same person matches."""
    ann = people["ann"]
    for zf in (
        _export(ann, "/api/v1/account/exports/"),
        _export(org.admin, f"/api/v1/admin/people/{ann.user_id}/exports/"),
    ):
        names = zf.namelist()
        body = _all_text(zf)
        assert json.loads(zf.read("person.json"))["email"] == ann.email
        tickets = json.loads(zf.read("tickets.json"))
        texts = [c["comment"] for t in tickets for c in t["comments"]]
        assert f"still {NAME}" in texts and f"Hi {NAME}" in texts
        assert not any("internal about" in t for t in texts)
        assert json.loads(zf.read("ratings.json"))[0]["rating"] == 5
        assert any(n.startswith("attachments/") for n in names)
        assert zf.read(next(n for n in names if n.startswith("attachments/"))) == PNG
        assert any(
            n.startswith("mail/") and f"raw body {NAME}" in zf.read(n).decode() for n in names
        )
        plugins = {n.split("/")[1].removesuffix(".json") for n in names if n.startswith("plugins/")}
        assert {"email", "slack", "teams", "jira", "pagerduty", "chatbot", "crm"} <= plugins
        email = json.loads(zf.read("plugins/email.json"))
        assert {r["kind"] for r in email} == {"sent_mail", "bounce", "parked_mail"}
        assert any(n.startswith("plugins/email/parked-") for n in names)
        assert people["ann_ids"]["slack"] in zf.read("plugins/slack.json").decode()
        assert people["ann_ids"]["teams"] in zf.read("plugins/teams.json").decode()
        assert f"chat line {NAME}" in zf.read("plugins/chatbot.json").decode()
        assert f"crm note {NAME}" in zf.read("plugins/crm.json").decode()
        assert "Bartholomew" not in body and people["bob"].email not in body
        assert people["bob_ids"]["slack"] not in body


def test_export_link_expires_and_is_refused_when_tampered(
    people: dict[str, Any], org: TenantSet, other_org: TenantSet, pclient: TestClient
) -> None:
    """The link is signed and expires with the export; another tenant cannot see it; an end
    user cannot export someone else."""
    ann = people["ann"]
    r = ann.post("/api/v1/account/exports/")
    url = ann.get(f"/api/v1/privacy/exports/{r.json()['id']}/").json()["download_url"]
    assert pclient.get(url[:-3] + "xyz").status_code == 404
    other = as_client(other_org.admin, pclient)
    assert other.get(f"/api/v1/privacy/exports/{r.json()['id']}/").status_code == 404
    assert other.post(f"/api/v1/admin/people/{ann.user_id}/exports/").status_code == 404
    bob = people["bob"]
    assert bob.post(f"/api/v1/admin/people/{ann.user_id}/exports/").status_code == 403
    clock.set_clock(clock.FrozenClock(datetime.now(UTC) + timedelta(days=8)))
    assert pclient.get(url).status_code == 404


def _identifiers(who: Member, ids: dict[str, Any], name: str = NAME) -> list[str]:
    return [
        who.email.lower(),
        name.lower(),
        name.split()[-1].lower(),
        ids["slack"].lower(),
        ids["teams"],
    ]


def _scan_database(hub: Hub, needles: list[str]) -> list[str]:
    """Every text and JSON column of every table, core and plugin, read as text."""
    found = []
    with hub.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            cols = [c for c in table.c if isinstance(c.type, String | JSON)]
            if not cols:
                continue
            for row in conn.execute(select(*cols)):
                for col, value in zip(cols, row, strict=True):
                    blob = json.dumps(value) if isinstance(value, dict | list) else str(value)
                    for n in needles:
                        if n in blob.lower():
                            found.append(f"{table.name}.{col.name}: {n}")
    return found


def _blob_files(hub: Hub) -> set[Path]:
    return {p for p in Path(hub.settings.blob_dir).rglob("*") if p.is_file()}


def _scan_blobs(hub: Hub, needles: list[str], before: set[Path]) -> list[str]:
    """Every blob this test made (the store is shared by the session's tests)."""
    return [
        f"{p.name}: {n}"
        for p in _blob_files(hub) - before
        for n in needles
        if n.encode() in p.read_bytes().lower()
    ]


def test_erasure_leaves_nothing_of_the_person(
    people: dict[str, Any], org: TenantSet, phub: Hub, crm: CrmPlugin
) -> None:
    """The confirmation counts what goes; after the erasure no column of any table and no
    blob holds the person's address, name or chat handles (the audit row names only the
    pseudonym); Bob's data is whole; the ticket keeps its rating (reports stay correct)."""
    ann, tid = people["ann"], people["ann_ids"]["ticket"]
    ann.post("/api/v1/account/exports/")  # an export archive of hers: it goes too
    preview = org.admin.get(f"/api/v1/admin/people/{ann.user_id}/erasure/")
    assert preview.status_code == 200, preview.text
    counts = preview.json()["counts"]
    assert preview.json()["shared_account"] is False
    assert counts["tickets"] == 1 and counts["attachments"] == 1 and counts["raw_messages"] == 1
    assert counts["chatbot.chat_session"] == 1 and counts["email.parked_mail"] == 1
    assert counts["slack.user_link"] == 1 and counts["crm.contact"] == 1
    needles = _identifiers(ann, people["ann_ids"])
    assert _scan_database(phub, needles) and _scan_blobs(
        phub, needles, people["blobs_before"]
    )  # planted
    refused = org.admin.post(
        f"/api/v1/admin/people/{ann.user_id}/erasure/", json={"confirm": False}
    )
    assert refused.status_code == 422
    r = org.admin.post(f"/api/v1/admin/people/{ann.user_id}/erasure/", json={"confirm": True})
    assert r.status_code == 200, r.text
    # Nothing anywhere, the audit trails included: their rows naming her were redacted, and
    # the one audit row of the erasure names only the pseudonym.
    assert _scan_database(phub, needles) == []
    assert _scan_blobs(phub, needles, people["blobs_before"]) == []
    assert (org.tenant[0], ann.email.lower()) not in crm.contacts
    with phub.read_session() as s:
        ticket = s.get(Ticket, tid)
        assert ticket is not None and ticket.satisfaction_rating == 5
        pseudonym = r.json()["pseudonym"]
        assert pseudonym in ticket.description
        audit = s.execute(
            text("SELECT target_email, details FROM tenant_audit WHERE action = 'person.erased'")
        ).one()
        assert audit[0].startswith(pseudonym)
        details = audit[1] if isinstance(audit[1], dict) else json.loads(audit[1])
        assert details["counts"]["audit_rows_redacted"] > 0
        assert details["redaction"]["tenant"]["rows"] > 0
        # The chains still verify, the redacted rows vouched for by that row.
        keys = phub.keyring.derive_all(CHECKPOINT_INFO)
        assert [r.finding for r in verify(s, org.tenant[0], keys)] == [None, None]
    bob = _identifiers(people["bob"], people["bob_ids"], "Bartholomew Zeng")
    assert len({f.split(":")[0] for f in _scan_database(phub, bob)}) >= 8
    again = org.admin.get(f"/api/v1/admin/people/{ann.user_id}/erasure/").json()
    assert again["counts"]["attachments"] == 0


def test_remove_mode_blanks_the_persons_own_comments(
    people: dict[str, Any], org: TenantSet, phub: Hub
) -> None:
    """With comment_erasure "remove" the person's own comments lose their text entirely."""
    assert (
        org.admin.client.put(
            "/api/v1/admin/retention/",
            json={"comment_erasure": "remove"},
            headers=org.admin.headers,
        ).status_code
        == 200
    )
    ann = people["ann"]
    assert (
        org.admin.post(
            f"/api/v1/admin/people/{ann.user_id}/erasure/", json={"confirm": True}
        ).status_code
        == 200
    )
    with phub.read_session() as s:
        mine = s.scalars(select(Comment.comment).where(Comment.user_id == ann.user_id)).all()
    assert mine == ["[removed]"]


def test_legal_hold_blocks_erasure_with_its_reason(
    people: dict[str, Any], org: TenantSet, other_org: TenantSet, pclient: TestClient
) -> None:
    """A hold on the person or on one of their tickets: 409 naming the reason; released, the
    erasure goes ahead. Another tenant's hold ids are 404."""
    ann, tid = people["ann"], people["ann_ids"]["ticket"]
    hold = org.admin.post("/api/v1/admin/holds/", json={"ticket_id": tid, "reason": "case 42"})
    assert hold.status_code == 201, hold.text
    assert org.admin.get(f"/api/v1/admin/people/{ann.user_id}/erasure/").json()["held"]
    r = org.admin.post(f"/api/v1/admin/people/{ann.user_id}/erasure/", json={"confirm": True})
    assert r.status_code == 409 and "case 42" in r.text
    other = as_client(other_org.admin, pclient)
    gone = other.client.delete(f"/api/v1/admin/holds/{hold.json()['id']}/", headers=other.headers)
    assert gone.status_code == 404
    assert (
        org.admin.post(
            "/api/v1/admin/holds/",
            json={"user_id": people["bob"].user_id, "ticket_id": tid, "reason": "x"},
        ).status_code
        == 422
    )
    released = org.admin.client.delete(
        f"/api/v1/admin/holds/{hold.json()['id']}/", headers=org.admin.headers
    )
    assert released.status_code == 200 and released.json()["released_at"]
    r = org.admin.post(f"/api/v1/admin/people/{ann.user_id}/erasure/", json={"confirm": True})
    assert r.status_code == 200, r.text


PASSWORD = "correct horse battery staple 42"


def _tenant_rows(hub: Hub, tenant_id: uuid.UUID, needles: list[str]) -> list[str]:
    """The tenant's rows (every table with a ``tenant_id``, core and plugin, audit trails too)
    holding a needle in a text or JSON column."""
    found = []
    with hub.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            cols = [c for c in table.c if isinstance(c.type, String | JSON)]
            if "tenant_id" not in table.c or not cols:
                continue
            for row in conn.execute(select(*cols).where(table.c.tenant_id == tenant_id)):
                blob = json.dumps([v if isinstance(v, dict | list) else str(v) for v in row])
                found += [f"{table.name}: {n}" for n in needles if n in blob.lower()]
    return found


def _references(hub: Hub, tenant_id: uuid.UUID, user_id: int) -> list[str]:
    """The tenant's rows pointing at the account (a foreign key to ``auth_user``)."""
    found = []
    with hub.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if "tenant_id" not in table.c:
                continue
            for col in table.c:
                if any(fk.column.table.name == "auth_user" for fk in col.foreign_keys):
                    hit = conn.execute(
                        select(col).where(table.c.tenant_id == tenant_id, col == user_id)
                    ).first()
                    if hit is not None:
                        found.append(f"{table.name}.{col.name}")
    return found


def test_erasure_of_a_shared_account_erases_this_tenants_share_only(
    hub: Hub, app, org: TenantSet, other_org: TenantSet, make_member
) -> None:  # type: ignore[no-untyped-def]
    """A tenant admin erases a person whose account another organisation shares: this tenant
    then holds nothing of them (no address, name or reference in any row, its audit trails
    included, which still verify); the other organisation still sees its data, and the person
    still signs in there with their password."""
    email = f"shared-{uuid.uuid4().hex[:6]}@example.com"
    here = _named(hub, make_member(org.tenant, "end_user", email, PASSWORD), "Ottilie Brandvold")
    there = make_member(other_org.tenant, "end_user", email)
    assert here.user_id == there.user_id
    mine = here.post(T, json={**NEW_TICKET, "subject": "VPN for Ottilie Brandvold"}).json()["id"]
    assert (
        here.post(f"{T}{mine}/comment/", json={"comment": f"reach me at {email}"}).status_code
        == 201
    )
    theirs = there.post(T, json={**NEW_TICKET, "subject": "Printer, Ottilie Brandvold"}).json()[
        "id"
    ]
    with TestClient(app, raise_server_exceptions=False) as browser:
        login = {"email": email, "password": PASSWORD, "tenant": org.tenant[1]}
        assert browser.post("/api/v1/auth/login", json=login).status_code == 200
    needles = [email, "ottilie brandvold", "brandvold"]
    assert _tenant_rows(hub, org.tenant[0], needles) and _references(
        hub, org.tenant[0], here.user_id
    )
    preview = org.admin.get(f"/api/v1/admin/people/{here.user_id}/erasure/")
    assert preview.status_code == 200 and preview.json()["counts"]["tickets"] == 1
    assert preview.json()["shared_account"] is True
    r = org.admin.post(f"/api/v1/admin/people/{here.user_id}/erasure/", json={"confirm": True})
    assert r.status_code == 200, r.text
    pseudonym = r.json()["pseudonym"]
    assert _tenant_rows(hub, org.tenant[0], needles) == []
    assert _references(hub, org.tenant[0], here.user_id) == []
    assert org.admin.get(f"/api/v1/admin/people/{here.user_id}/erasure/").status_code == 404
    assert here.get(f"{T}{mine}/").status_code == 401  # this tenant's token went with it
    kept = org.agent.get(f"{T}{mine}/")  # the ticket stays, its requester a pseudonym
    assert kept.status_code == 200 and pseudonym in kept.json()["subject"]
    # The other organisation: its ticket, its rows, the member's token and sign-in.
    got = there.get(f"{T}{theirs}/")
    assert got.status_code == 200 and got.json()["subject"] == "Printer, Ottilie Brandvold"
    assert _tenant_rows(hub, other_org.tenant[0], needles)
    with TestClient(app, raise_server_exceptions=False) as browser:
        gone = {"email": email, "password": PASSWORD, "tenant": org.tenant[1]}
        assert browser.post("/api/v1/auth/login", json=gone).status_code == 422
        signed_in = browser.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert signed_in.status_code == 200 and other_org.tenant[1] in signed_in.text
    with hub.read_session() as s:
        user = s.get(User, here.user_id)
        assert user is not None and user.email == email and user.is_active
        keys = hub.keyring.derive_all(CHECKPOINT_INFO)
        for tenant in (org.tenant[0], other_org.tenant[0]):
            assert [rep.finding for rep in verify(s, tenant, keys)] == [None, None]


NEW_TICKET = {"subject": "x", "description": "It drops.", "category": "Technical Issue"}


def test_erasure_redacts_the_name_not_words_that_contain_its_parts(
    hub: Hub, org: TenantSet, make_member
) -> None:  # type: ignore[no-untyped-def]
    """Kept comments are redacted by the address and the full name first, then by each name
    part only as a whole word written as a name: "Mark Bell" goes, and so do "Mark" and "Bell"
    as names, but "mark as done", "market", "Bellwether", "the bell" and an address that merely
    contains hers stay."""
    tag = uuid.uuid4().hex[:6]
    email = f"bell-{tag}@example.com"
    mark = _named(hub, make_member(org.tenant, "end_user", email), "Mark Bell")
    text_ = "Please mark the Bellwether market item as done; ring the bell. Mark Bell"
    tid = mark.post(T, json={**NEW_TICKET, "subject": "Mark Bell: printer", "description": text_})
    assert tid.status_code == 201, tid.text
    tid = tid.json()["id"]
    mine = f"Thanks, MARK here ({email}); Bell's desk, not the Bells."
    assert mark.post(f"{T}{tid}/comment/", json={"comment": mine}).status_code == 201
    other = (
        f"Mark, the Marketing team marks it; write to mabell-{tag}@example.com "
        f"or {email}.org, not {email}."
    )
    assert org.agent.post(f"{T}{tid}/comment/", json={"comment": other}).status_code == 201
    r = org.admin.post(f"/api/v1/admin/people/{mark.user_id}/erasure/", json={"confirm": True})
    assert r.status_code == 200, r.text
    p = r.json()["pseudonym"]
    with hub.read_session() as s:
        ticket = s.get(Ticket, tid)
        assert ticket is not None
        assert ticket.subject == f"{p}: printer"
        assert ticket.description == (
            f"Please mark the Bellwether market item as done; ring the bell. {p}"
        )
        comments = dict(
            s.execute(
                select(Comment.user_id, Comment.comment).where(Comment.ticket_id == tid)
            ).all()
        )
    assert comments[mark.user_id] == f"Thanks, {p} here ({p}); {p}'s desk, not the Bells."
    assert comments[org.agent.user_id] == (
        f"{p}, the Marketing team marks it; write to mabell-{tag}@example.com "
        f"or {email}.org, not {p}."
    )


# ------------------------------------------------------------------------- retention


def _closed_tickets(hub: Hub, org: TenantSet, n: int, closed_at: datetime) -> list[int]:
    ids = []
    for i in range(n):
        r = org.end_user.post(
            T,
            json={
                "subject": f"old {i}",
                "description": "secret words",
                "category": "Technical Issue",
            },
        )
        ids.append(r.json()["id"])
    with hub.session() as s:
        for tid in ids:
            t = s.get(Ticket, tid)
            assert t is not None
            t.status, t.closed_at = "Closed", closed_at
    return ids


def test_retention_dry_run_then_run_respects_holds(
    phub: Hub, pclient: TestClient, org: TenantSet
) -> None:
    """Under a frozen clock: a dry run counts the closed tickets past the period and the
    parked mail, touching nothing; the run anonymises all but the held ticket and deletes the
    parked mail; a second run finds nothing (idempotent); every run is recorded."""
    for role in ("end_user", "admin"):
        setattr(org, role, as_client(getattr(org, role), pclient))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    frozen = clock.FrozenClock(start)
    clock.set_clock(frozen)
    phub.set_enabled(org.tenant[0], "email", True, reason="test")
    old = _closed_tickets(phub, org, 3, start)
    with phub.session() as s:
        s.add(ParkedMessage(tenant_id=org.tenant[0], source="smtp", reason="x", created_at=start))
    frozen.advance(days=40)
    fresh = _closed_tickets(phub, org, 1, frozen.at)
    admin = org.admin
    assert (
        admin.post(
            "/api/v1/admin/holds/", json={"ticket_id": old[0], "reason": "audit"}
        ).status_code
        == 201
    )
    r = admin.client.put(
        "/api/v1/admin/retention/",
        json={"closed_ticket_days": 30, "parked_mail_days": 10},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    assert (
        admin.client.put(
            "/api/v1/admin/retention/", json={"closed_ticket_days": 0}, headers=admin.headers
        ).status_code
        == 422
    )
    dry = admin.post("/api/v1/admin/retention/runs/", json={"dry_run": True})
    assert dry.status_code == 201, dry.text
    assert dry.json()["counts"]["closed_tickets"] == 2
    assert dry.json()["counts"]["parked_mail"] == 1
    with phub.read_session() as s:
        assert s.get(Ticket, old[1]).subject == "old 1"  # type: ignore[union-attr]
    run = admin.post("/api/v1/admin/retention/runs/", json={"dry_run": False}).json()
    assert run["counts"] == {"closed_tickets": 2, "parked_mail": 1}
    with phub.read_session() as s:
        subjects = {t: s.get(Ticket, t).subject for t in [*old, *fresh]}  # type: ignore[union-attr]
        assert s.scalar(select(ParkedMessage.id)) is None
    assert subjects[old[0]] == "old 0" and subjects[fresh[0]] == "old 0"
    assert subjects[old[1]] == subjects[old[2]] == retention.RETIRED
    again = admin.post("/api/v1/admin/retention/runs/", json={}).json()
    assert again["counts"].get("closed_tickets", 0) == 0
    history = admin.get("/api/v1/admin/retention/").json()["runs"]
    assert [h["dry_run"] for h in history] == [False, False, True]


def test_retention_crash_mid_run_resumes_without_double_work(
    phub: Hub, pclient: TestClient, org: TenantSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deletion in batches of 2: the process dies after the second batch committed; the next
    run resumes the same run row and its counts add up to each ticket exactly once."""
    from hub import privacy

    org.end_user = as_client(org.end_user, pclient)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    frozen = clock.FrozenClock(start)
    clock.set_clock(frozen)
    old = _closed_tickets(phub, org, 5, start)
    frozen.advance(days=40)
    with phub.session() as s:
        policy.save(
            s,
            Actor(tenant_id=org.tenant[0], user_id=None, role="admin"),
            {"closed_ticket_days": 30, "closed_ticket_action": "delete"},
        )
    real, calls = retention.sweep, []

    def crashing(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("injected: the worker died")
        return real(*args, **kw)

    monkeypatch.setattr(retention, "sweep", crashing)
    with pytest.raises(RuntimeError):
        privacy.run_retention(phub, org.tenant[0], batch=2)
    with phub.read_session() as s:
        left = s.scalars(select(Ticket.id).where(Ticket.id.in_(old))).all()
        run = s.scalars(select(RetentionRun)).one()
        assert run.status == "running" and run.counts == {"closed_tickets": 4}
        first = run.id
    assert len(left) == 1
    run_id = privacy.run_retention(phub, org.tenant[0], batch=2)
    assert run_id == first
    with phub.read_session() as s:
        done = s.get(RetentionRun, run_id)
        assert done is not None and done.status == "done"
        assert done.counts["closed_tickets"] == 5
        assert s.scalars(select(Ticket.id).where(Ticket.id.in_(old))).all() == []


def test_retention_deleting_tickets_takes_them_out_of_the_report_sums(
    phub: Hub, pclient: TestClient, org: TenantSet
) -> None:
    """The report facts go with the deleted tickets (ON DELETE CASCADE) and the per-day report
    sums lose what they added: the sums stay those of the facts left."""
    from core.reports.models import ReportCreatedDay

    org.end_user = as_client(org.end_user, pclient)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    frozen = clock.FrozenClock(start)
    clock.set_clock(frozen)
    old = _closed_tickets(phub, org, 3, start)
    tenant = org.tenant[0]
    counted = select(func.sum(ReportCreatedDay.count)).where(ReportCreatedDay.tenant_id == tenant)
    with phub.read_session() as s:
        before = s.scalar(counted)
    assert before is not None and before >= 3
    frozen.advance(days=40)
    with phub.session() as s:
        policy.save(
            s,
            Actor(tenant_id=tenant, user_id=None, role="admin"),
            {"closed_ticket_days": 30, "closed_ticket_action": "delete"},
        )
    from hub import privacy

    privacy.run_retention(phub, tenant)
    with phub.read_session() as s:
        assert s.scalars(select(Ticket.id).where(Ticket.id.in_(old))).all() == []
        assert s.scalar(counted) == before - 3
    assert report_sums.sums(phub, tenant) == report_sums.refilled(phub, tenant)


def test_cli_retention_run_dry_run_then_run(
    phub: Hub, pclient: TestClient, org: TenantSet, settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """``hub retention run --dry-run --tenant SLUG`` counts, ``hub retention run`` removes; an
    unknown tenant is one clear line and a non-zero exit."""
    from typer.testing import CliRunner

    from hub.cli import app as cli

    monkeypatch.setenv("HUB_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("HUB_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HUB_SECRET_KEY", settings.secret_key)
    org.end_user = as_client(org.end_user, pclient)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    old = _closed_tickets(phub, org, 2, start)
    with phub.session() as s:
        policy.save(
            s, Actor(tenant_id=org.tenant[0], user_id=None, role="admin"), {"closed_ticket_days": 5}
        )
    runner, slug = CliRunner(), org.tenant[1]
    dry = runner.invoke(cli, ["retention", "run", "--dry-run", "--tenant", slug])
    assert dry.exit_code == 0 and "would remove closed_tickets 2" in dry.output, dry.output
    done = runner.invoke(cli, ["retention", "run", "--tenant", slug])
    assert done.exit_code == 0 and "removed closed_tickets 2" in done.output, done.output
    with phub.read_session() as s:
        assert {s.get(Ticket, t).subject for t in old} == {retention.RETIRED}  # type: ignore[union-attr]
    bad = runner.invoke(cli, ["retention", "run", "--tenant", "nope"])
    assert bad.exit_code != 0 and "no tenant" in bad.output
