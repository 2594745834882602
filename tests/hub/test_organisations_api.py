"""Organisations and people through the API: domains that requesters join by any channel,
tenant isolation, the person's page, merging two people, tickets on behalf."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from core.intake import InboundMessage
from core.models import (
    Attachment,
    Comment,
    ExternalRef,
    Membership,
    Notification,
    NotificationPreference,
    TenantAudit,
    TenantPlugin,
    Ticket,
    User,
)
from core.organisations import organisation_peers
from core.organisations.merge import MOVED

ORGS = "/api/v1/support/organisations/"
P = "/api/v1/support/people/"
T = "/api/v1/support/tickets/"
NEW = {"subject": "VPN drops", "description": "Every hour.", "category": "Technical Issue"}


def _org(org, name="Acme", domains=("acme.test",)):  # type: ignore[no-untyped-def]
    r = org.admin.post(ORGS, json={"name": name, "domains": list(domains), "notes": "Key account"})
    assert r.status_code == 201, r.text
    return r.json()


def _user_id(hub, email: str) -> int:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        uid = s.scalar(select(User.id).where(User.email == email))
    assert uid is not None
    return int(uid)


def test_mail_from_a_new_sender_joins_the_organisation_of_their_domain(hub, org) -> None:  # type: ignore[no-untyped-def]
    acme = _org(org)
    made = hub.ingest(
        org.tenant[0],
        InboundMessage(
            channel="email",
            dedupe_key=uuid.uuid4().hex,
            sender_email="Jane@EU.Acme.test",
            subject="Printer",
            body="It jams.",
        ),
    )
    assert made.outcome == "ticket"
    people = org.agent.get(f"{ORGS}{acme['id']}/people/").json()["results"]
    assert [p["email"] for p in people] == ["Jane@eu.acme.test"]
    jane = people[0]["id"]
    assert org.agent.get(f"{P}{jane}/").json()["organisation"] == {"id": acme["id"], "name": "Acme"}
    listed = org.agent.get(T, params={"organisation": acme["id"]}).json()["results"]
    assert [t["id"] for t in listed] == [made.ticket_id]
    # Someone of another domain joins nothing, and is not in the organisation's tickets.
    hub.ingest(
        org.tenant[0],
        InboundMessage(
            channel="email",
            dedupe_key=uuid.uuid4().hex,
            sender_email="bob@elsewhere.test",
            subject="Other",
            body="x",
        ),
    )
    assert len(org.agent.get(T, params={"organisation": acme["id"]}).json()["results"]) == 1


def test_api_requester_email_joins_and_opens_on_behalf(hub, org) -> None:  # type: ignore[no-untyped-def]
    acme = _org(org)
    r = org.agent.post(T, json={**NEW, "requester_email": "kim@acme.test"})
    assert r.status_code == 201, r.text
    kim = _user_id(hub, "kim@acme.test")
    assert r.json()["created_by"] == kim
    with hub.session() as s:
        assert organisation_peers(s, org.tenant[0], kim) == [kim]
    assert org.agent.get(f"{ORGS}{acme['id']}/").json()["people"] == 1


def test_an_added_domain_joins_existing_people(hub, org, make_member) -> None:  # type: ignore[no-untyped-def]
    a = make_member(org.tenant, "end_user", email="ann@later.test")
    b = make_member(org.tenant, "end_user", email="bo@sub.later.test")
    make_member(org.tenant, "agent", email="staff@later.test")  # staff never join
    make_member(org.tenant, "end_user", email="cy@notlater.test")  # not a subdomain
    acme = _org(org, domains=())
    r = org.admin.patch(f"{ORGS}{acme['id']}/", json={"domains": ["later.test"]})
    assert r.status_code == 200 and r.json()["joined"] == 2, r.text
    ids = {p["id"] for p in org.agent.get(f"{ORGS}{acme['id']}/people/").json()["results"]}
    assert ids == {a.user_id, b.user_id}
    with hub.session() as s:
        assert sorted(organisation_peers(s, org.tenant[0], a.user_id)) == sorted(ids)
        assert organisation_peers(s, org.tenant[0], org.end_user.user_id) == [org.end_user.user_id]
    actions = _actions(hub, org.tenant[0])
    assert actions[-2:] == ["organisation.created", "organisation.updated"]


def _actions(hub, tenant_id) -> list[str]:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        return list(
            s.scalars(
                select(TenantAudit.action)
                .where(TenantAudit.tenant_id == tenant_id, TenantAudit.action != "token.used")
                .order_by(TenantAudit.id)
            )
        )


def test_domains_are_validated_unique_and_never_free_mail(org) -> None:  # type: ignore[no-untyped-def]
    _org(org)
    for domains, status in (
        (["gmail.com"], 422),
        (["not a domain"], 422),
        (["localhost"], 422),
        (["ACME.test"], 409),
    ):
        r = org.admin.post(ORGS, json={"name": "Other", "domains": domains})
        assert r.status_code == status, r.text
        assert r.json()["field"] == "domains" and r.json()["detail"]
    assert org.admin.post(ORGS, json={"name": " ", "domains": []}).status_code == 422
    assert org.agent.post(ORGS, json={"name": "X"}).status_code == 403
    assert [o["name"] for o in org.agent.get(ORGS).json()["results"]] == ["Acme"]


def test_list_search_paging_and_delete(org) -> None:  # type: ignore[no-untyped-def]
    for n in range(5):
        _org(org, name=f"Org {n}", domains=(f"o{n}.test",))
    page = org.agent.get(ORGS, params={"limit": 2}).json()
    assert [o["name"] for o in page["results"]] == ["Org 0", "Org 1"]
    page2 = org.agent.get(ORGS, params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [o["name"] for o in page2["results"]] == ["Org 2", "Org 3"]
    assert [o["name"] for o in org.agent.get(ORGS, params={"q": "g 4"}).json()["results"]] == [
        "Org 4"
    ]
    oid = page["results"][0]["id"]
    r = org.admin.client.delete(f"{ORGS}{oid}/", headers=org.admin.headers)
    assert r.status_code == 204
    assert org.agent.get(f"{ORGS}{oid}/").status_code == 404


def test_another_tenants_organisation_is_never_visible(org, other_org) -> None:  # type: ignore[no-untyped-def]
    acme = _org(org)
    assert other_org.admin.get(ORGS).json()["results"] == []
    for member in (other_org.agent, other_org.admin):
        assert member.get(f"{ORGS}{acme['id']}/").status_code == 404
        assert member.get(f"{ORGS}{acme['id']}/people/").status_code == 404
    assert other_org.admin.patch(f"{ORGS}{acme['id']}/", json={"name": "Mine"}).status_code == 404
    r = other_org.agent.client.put(
        f"{P}{other_org.end_user.user_id}/organisation/",
        json={"organisation_id": acme["id"]},
        headers=other_org.agent.headers,
    )
    assert r.status_code == 404
    assert other_org.agent.get(f"{P}{org.end_user.user_id}/").status_code == 404
    # The same domain may belong to an organisation of another tenant.
    assert (
        other_org.admin.post(ORGS, json={"name": "A2", "domains": ["acme.test"]}).status_code == 201
    )
    assert other_org.agent.get(T, params={"organisation": acme["id"]}).json()["results"] == []


def test_staff_set_a_persons_organisation_by_hand(hub, org) -> None:  # type: ignore[no-untyped-def]
    acme = _org(org)
    url = f"{P}{org.end_user.user_id}/organisation/"
    r = org.agent.client.put(url, json={"organisation_id": acme["id"]}, headers=org.agent.headers)
    assert r.status_code == 200 and r.json()["organisation"]["id"] == acme["id"], r.text
    r = org.end_user.client.put(url, json={"organisation_id": None}, headers=org.end_user.headers)
    assert r.status_code == 403
    r = org.agent.client.put(url, json={"organisation_id": None}, headers=org.agent.headers)
    assert r.json()["organisation"] is None
    assert _actions(hub, org.tenant[0]).count("person.organisation_changed") == 2


def test_end_users_see_no_people_or_organisations(org) -> None:  # type: ignore[no-untyped-def]
    acme = _org(org)
    for url in (ORGS, f"{ORGS}{acme['id']}/", f"{P}{org.end_user.user_id}/", f"{P}?q=ex"):
        assert org.end_user.get(url).status_code == 403, url


def test_the_person_page_lists_tickets_of_every_channel_and_identities(hub, org) -> None:  # type: ignore[no-untyped-def]
    me = org.end_user
    web = me.post(T, json=NEW).json()["id"]
    mail = hub.ingest(
        org.tenant[0],
        InboundMessage(
            channel="email",
            dedupe_key=uuid.uuid4().hex,
            sender_email=me.email,
            subject="s",
            body="b",
        ),
    ).ticket_id
    with hub.session() as s:
        s.add(
            TenantPlugin(
                tenant_id=org.tenant[0],
                plugin="slack",
                enabled=True,
                settings={},
                state={"user:T1:U42": {"email": me.email, "name": "Pat"}},
            )
        )
    body = org.agent.get(f"{P}{me.user_id}/").json()
    assert body["tickets_by_channel"] == {"api": 1, "email": 1}
    assert {(i["kind"], i["value"]) for i in body["identities"]} == {
        ("email", me.email),
        ("slack", "T1:U42"),
    }
    page = org.agent.get(f"{P}{me.user_id}/tickets/", params={"limit": 1}).json()
    more = org.agent.get(
        f"{P}{me.user_id}/tickets/", params={"limit": 1, "cursor": page["next_cursor"]}
    ).json()
    assert [t["id"] for t in page["results"] + more["results"]] == [mail, web]


def _merge_setup(hub, org, make_member):  # type: ignore[no-untyped-def]
    src = make_member(org.tenant, "end_user", email="pat@old.test")
    dst = make_member(org.tenant, "end_user", email="pat@new.test")
    tid = src.post(T, json=NEW).json()["id"]
    src.post(f"{T}{tid}/comment/", json={"comment": "more"})
    src.post(f"{T}{tid}/attachment/", files={"file": ("a.txt", b"hello", "text/plain")})
    acme = _org(org, domains=("old.test",))
    org.agent.client.put(
        f"{P}{src.user_id}/organisation/",
        json={"organisation_id": acme["id"]},
        headers=org.agent.headers,
    )
    with hub.session() as s:
        s.add(
            Notification(
                tenant_id=org.tenant[0], user_id=src.user_id, ticket_id=tid, kind="x", text="t"
            )
        )
        s.add(
            NotificationPreference(
                tenant_id=org.tenant[0], user_id=src.user_id, choices={"a": True}
            )
        )
        s.add(
            ExternalRef(tenant_id=org.tenant[0], ticket_id=tid, kind="participant", value=src.email)
        )
    hub.set_enabled(org.tenant[0], "slack", True, reason="test")
    with hub.session() as s:
        row = s.scalar(
            select(TenantPlugin).where(
                TenantPlugin.tenant_id == org.tenant[0], TenantPlugin.plugin == "slack"
            )
        )
        assert row is not None
        row.state = {"user:T1:U9": {"email": src.email, "name": "Pat"}}
    return src, dst, tid, acme


def test_merge_moves_everything_and_deactivates_the_source(hub, org, make_member) -> None:  # type: ignore[no-untyped-def]
    src, dst, tid, acme = _merge_setup(hub, org, make_member)
    preview = org.agent.get(f"{P}{src.user_id}/merge/", params={"target_id": dst.user_id}).json()
    assert preview["moves"]["tickets"] == 1 and preview["moves"]["comments"] == 1
    assert preview["moves"]["attachments"] == 1 and preview["moves"]["organisation link"] == 1
    r = org.agent.post(f"{P}{src.user_id}/merge/", json={"target_id": dst.user_id})
    assert r.status_code == 200, r.text
    moved = r.json()["moved"]
    assert moved["tickets"] == 1 and moved["plugin records"] >= 1
    tenant = org.tenant[0]
    with hub.session() as s:
        # Walk every moved column: nothing of the tenant names the source any more.
        for label, model, column in MOVED:
            left = s.scalar(
                select(func.count())
                .select_from(model)
                .where(model.tenant_id == tenant, column == src.user_id)
            )
            assert left == 0, label
        assert s.scalar(select(Ticket.created_by).where(Ticket.id == tid)) == dst.user_id
        assert {c.user_id for c in s.scalars(select(Comment).where(Comment.ticket_id == tid))} == {
            dst.user_id
        }
        assert (
            s.scalar(select(Attachment.uploaded_by).where(Attachment.ticket_id == tid))
            == dst.user_id
        )
        assert (
            s.scalar(select(Notification.user_id).where(Notification.ticket_id == tid))
            == dst.user_id
        )
        assert (
            s.scalar(
                select(NotificationPreference.user_id).where(
                    NotificationPreference.tenant_id == tenant
                )
            )
            == dst.user_id
        )
        assert (
            s.scalar(
                select(ExternalRef.value).where(
                    ExternalRef.ticket_id == tid, ExternalRef.kind == "participant"
                )
            )
            == dst.email
        )
        state = s.scalar(
            select(TenantPlugin.state).where(
                TenantPlugin.tenant_id == tenant, TenantPlugin.plugin == "slack"
            )
        )
        assert state["user:T1:U9"]["email"] == dst.email
        user = s.get(User, src.user_id)
        assert user is not None and user.is_active is False  # kept, not deleted
        member = s.scalar(select(Membership).where(Membership.user_id == src.user_id))
        assert member is not None and member.deactivated_at is not None
        assert organisation_peers(s, tenant, dst.user_id) == [dst.user_id]
    assert src.get("/api/v1/me").status_code == 401  # their token is revoked
    assert org.agent.get(f"{P}{dst.user_id}/").json()["organisation"]["id"] == acme["id"]
    assert "person.merged" in _actions(hub, tenant)
    # The ticket's audit trail (naming the source) is intact, and says who the requester was.
    trail = org.agent.get(f"{T}{tid}/audit/").json()
    changed = [a for a in trail if a["action"] == "Requester Changed"]
    assert [(a["old_value"], a["new_value"]) for a in changed] == [(src.email, dst.email)]
    assert trail[0]["performed_by"] == src.user_id


def test_merge_is_refused_where_it_must_be(hub, org, other_org, make_member) -> None:  # type: ignore[no-untyped-def]
    a = make_member(org.tenant, "end_user")
    b = make_member(org.tenant, "end_user")
    url = f"{P}{a.user_id}/merge/"
    assert org.agent.post(url, json={"target_id": a.user_id}).status_code == 422
    assert org.agent.post(url, json={"target_id": org.agent.user_id}).status_code == 409
    r = org.agent.post(f"{P}{org.admin.user_id}/merge/", json={"target_id": a.user_id})
    assert r.status_code == 409 and "staff" in r.json()["detail"]
    assert org.agent.post(url, json={"target_id": other_org.end_user.user_id}).status_code == 404
    assert (
        other_org.agent.post(url, json={"target_id": other_org.end_user.user_id}).status_code == 404
    )
    assert org.end_user.post(url, json={"target_id": b.user_id}).status_code == 403
    assert org.manager.post(url, json={"target_id": b.user_id}).status_code == 403
    # A source that belongs to another tenant too is the operator's.
    with hub.session() as s:
        s.add(
            Membership(tenant_id=other_org.tenant[0], user_id=a.user_id, role="end_user", skills={})
        )
    r = org.agent.post(url, json={"target_id": b.user_id})
    assert r.status_code == 409 and r.json()["field"] == "source"
    assert org.agent.get(f"{P}{a.user_id}/").json()["active"] is True


def test_people_suggestions_for_the_requester_field(org, make_member) -> None:  # type: ignore[no-untyped-def]
    make_member(org.tenant, "end_user", email="zed.query@acme.test")
    found = org.agent.get(P, params={"q": "zed.q"}).json()
    assert [p["email"] for p in found] == ["zed.query@acme.test"]
    assert org.agent.get(P, params={"q": org.agent.email}).json() == []  # staff are no requesters


def test_reports_filter_and_group_by_the_requesters_organisation(  # type: ignore[no-untyped-def]
    hub, org, make_member
) -> None:
    """Reports take ``organisation`` (ids, or none) as a filter and a grouping: the requester's
    organisation in the tenant as it is now."""
    acme, globex = _org(org), _org(org, "Globex", ("globex.test",))
    buyer = make_member(org.tenant, "end_user")
    other = make_member(org.tenant, "end_user")  # in no organisation
    for person, oid in ((org.end_user, acme["id"]), (buyer, globex["id"])):
        r = org.agent.client.put(
            f"{P}{person.user_id}/organisation/",
            json={"organisation_id": oid},
            headers=org.agent.headers,
        )
        assert r.status_code == 200, r.text
    made = {"acme": 3, "globex": 1, "none": 2}
    for who, n in ((org.end_user, 3), (buyer, 1), (other, 2)):
        for _ in range(n):
            r = who.post(T, json=NEW)
            assert r.status_code == 201, r.text
            answered = org.agent.post(f"{T}{r.json()['id']}/comment/", json={"comment": "On it."})
            assert answered.status_code == 201, answered.text
    url = "/api/v1/support/reports/volume/"

    def created(**params: str) -> int:
        r = org.manager.get(url, params=params)
        assert r.status_code == 200, r.text
        return int(r.json()["totals"]["created"])

    assert created(organisation=str(acme["id"])) == made["acme"]
    assert created(organisation=f"{acme['id']},{globex['id']}") == made["acme"] + made["globex"]
    assert created(organisation="none") == made["none"]
    grouped = org.manager.get(
        "/api/v1/support/reports/first-response/", params={"group": "organisation"}
    )
    assert grouped.status_code == 200, grouped.text
    counts = {row["group"]: row["calendar"]["count"] for row in grouped.json()["rows"]}
    assert counts == {str(acme["id"]): 3, str(globex["id"]): 1, "none": 2}
    labels = {row["group"]: row["label"] for row in grouped.json()["rows"]}
    assert labels == {
        str(acme["id"]): "Acme",
        str(globex["id"]): "Globex",
        "none": "In no organisation",
    }
    exported = org.manager.get(
        "/api/v1/support/reports/first-response/export/",
        params={"group": "organisation", "format": "csv"},
    )
    assert exported.status_code == 200 and "Globex" in exported.text
    groups = set(counts)
    sla = org.manager.get("/api/v1/support/reports/sla/", params={"group": "organisation"})
    assert sla.status_code == 200 and {r["group"] for r in sla.json()["rows"]} == groups
    bad = org.manager.get(url, params={"organisation": "acme"})
    assert bad.status_code == 422 and bad.json()["field"] == "organisation"
