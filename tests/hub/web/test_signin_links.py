"""Requesters' sign-in links: made for active end users only, following one signs the requester in
and opens the ticket; refused once expired, revoked, deactivated, removed or promoted; "Email me a
sign-in link" answers the same for every address and is throttled."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import delete, update

from core.clock import FrozenClock, set_clock
from core.models import Membership, User
from core.services import links
from tests.hub.web.conftest import csrf_of
from tests.smtp_sink import system_relay


def ticket_of(member) -> int:  # type: ignore[no-untyped-def]
    r = member.post(
        "/api/v1/support/tickets/",
        json={"subject": "Printer", "description": "Smokes", "category": "Technical Issue"},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def follow(app, link: str) -> tuple[TestClient, object]:  # type: ignore[no-untyped-def]
    browser = TestClient(app, raise_server_exceptions=False)
    return browser, browser.get(urlsplit(link).path, follow_redirects=False)


def test_a_requester_link_opens_the_ticket_signed_in(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    requester = web_org["end_user"]
    tid = ticket_of(requester)
    link = hub.requester_link(requester.tenant_id, tid, requester.email.upper())
    assert link and link.startswith("http://hub.test/signin/")
    browser, r = follow(app, link)
    assert r.status_code == 303 and r.headers["location"] == f"/tickets/{tid}"  # type: ignore[attr-defined]
    page = browser.get(f"/tickets/{tid}")
    assert page.status_code == 200 and "Printer" in page.text
    # A normal end-user session: the requester replies on the portal.
    csrf = csrf_of(page.text)
    reply = browser.post(
        f"/tickets/{tid}/reply",
        data={"csrf_token": csrf, "comment": "Still smoking"},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    comments = requester.get(f"/api/v1/support/tickets/{tid}/").json()["comments"]
    assert [c["comment"] for c in comments] == ["Still smoking"]
    # Reusable until it expires (the next mail's link may come later).
    assert follow(app, link)[1].status_code == 303  # type: ignore[attr-defined]


def test_no_link_for_staff_or_strangers(hub, web_org, make_tenant) -> None:  # type: ignore[no-untyped-def]
    tid = ticket_of(web_org["end_user"])
    tenant_id = web_org["end_user"].tenant_id
    assert hub.requester_link(tenant_id, tid, web_org["agent"].email) is None
    assert hub.requester_link(tenant_id, tid, web_org["admin"].email) is None
    assert hub.requester_link(tenant_id, tid, "stranger@example.com") is None
    other, _ = make_tenant()
    assert hub.requester_link(other, tid, web_org["end_user"].email) is None


def test_refused_after_expiry_revocation_deactivation_removal_or_promotion(
    app, hub, web_org, make_member
) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(datetime.now(UTC))
    set_clock(clock)
    tenant = (web_org["end_user"].tenant_id, web_org["end_user"].tenant_slug)
    people = {name: make_member(tenant, "end_user") for name in ("exp", "rev", "off", "gone", "up")}
    made = {
        name: hub.requester_link(m.tenant_id, ticket_of(m), m.email) for name, m in people.items()
    }
    assert all(follow(app, link)[1].status_code == 303 for link in made.values())  # type: ignore[attr-defined]
    with hub.session() as s:
        links.revoke_for_user(s, people["rev"].user_id)
        s.execute(update(User).where(User.id == people["off"].user_id).values(is_active=False))
        s.execute(delete(Membership).where(Membership.user_id == people["gone"].user_id))
        s.execute(
            update(Membership)
            .where(Membership.user_id == people["up"].user_id)
            .values(role="agent")
        )
    for name, reason in (
        ("rev", "cancelled"),
        ("off", "can no longer sign in"),
        ("gone", "can no longer sign in"),
        ("up", "can no longer sign in"),
    ):
        _, r = follow(app, made[name])
        assert r.status_code == 401 and reason in r.text, name  # type: ignore[attr-defined]
    clock.advance(days=29)
    assert follow(app, made["exp"])[1].status_code == 303  # type: ignore[attr-defined]
    clock.advance(days=1, seconds=1)
    _, r = follow(app, made["exp"])
    assert r.status_code == 401 and "expired" in r.text  # type: ignore[attr-defined]
    _, forged = follow(app, "http://hub.test/signin/forged-token")
    assert forged.status_code == 401 and "not valid" in forged.text  # type: ignore[attr-defined]


def test_a_tenant_sets_its_own_lifetime(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    from core.models import Tenant

    clock = FrozenClock(datetime.now(UTC))
    set_clock(clock)
    requester = web_org["end_user"]
    with hub.session() as s:
        s.execute(
            update(Tenant)
            .where(Tenant.id == requester.tenant_id)
            .values(settings={"signin_link_ttl_days": 2})
        )
    link = hub.requester_link(requester.tenant_id, ticket_of(requester), requester.email)
    clock.advance(days=2, seconds=1)
    assert follow(app, link)[1].status_code == 401  # type: ignore[attr-defined]


def ask(app, email: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    browser = TestClient(app, raise_server_exceptions=False)
    form = browser.get("/signin-link")
    assert form.status_code == 200
    r = browser.post("/signin-link", data={"email": email, "csrf_token": csrf_of(form.text)})
    return r.status_code, r.text.replace(email, "ADDRESS")


def test_email_me_a_sign_in_link(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    requester = web_org["end_user"]
    with system_relay(hub.settings) as relay:
        known = ask(app, requester.email)
        staff = ask(app, web_org["agent"].email)
        unknown = ask(app, "nobody-here@example.com")
        api = TestClient(app).post("/api/v1/auth/signin-link/", json={"email": "x@example.com"})
        assert api.status_code == 202
        assert known == staff == unknown and known[0] == 200 and "on its way" in known[1]
        [msg] = relay.messages()
        assert msg["To"] == requester.email
        [path] = relay.links("signin")
    browser = TestClient(app, raise_server_exceptions=False)
    r = browser.get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/tickets"
    assert browser.get("/tickets").status_code == 200


def test_sign_in_link_requests_are_throttled(app, web_org) -> None:  # type: ignore[no-untyped-def]
    email = web_org["end_user"].email
    answers = [ask(app, email)[0] for _ in range(6)]
    assert answers == [200] * 5 + [429]


def test_a_membership_deactivated_by_the_admin_refuses_the_link(
    app, hub, web_org, make_member
) -> None:  # type: ignore[no-untyped-def]
    tenant = (web_org["end_user"].tenant_id, web_org["end_user"].tenant_slug)
    requester = make_member(tenant, "end_user")
    link = hub.requester_link(requester.tenant_id, ticket_of(requester), requester.email)
    assert follow(app, link)[1].status_code == 303  # type: ignore[attr-defined]
    r = web_org["admin"].post(f"/api/v1/admin/members/{requester.user_id}/deactivate/", json={})
    assert r.status_code == 200, r.text
    _, refused = follow(app, link)
    assert refused.status_code == 401 and "cancelled" in refused.text  # type: ignore[attr-defined]
    with hub.session() as s:  # and no new link is made for them
        assert links.issue_signin(s, requester.tenant_id, requester.email) is None
