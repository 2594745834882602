"""Invitations in the console: invite, the link to copy without a relay, the mail through the
system relay, acceptance (new and existing accounts), resend, cancel, and every refused link."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.clock import FrozenClock, set_clock
from core.models import Membership, TenantAudit
from hub import outbox
from tests.hub.web.conftest import PASSWORD, WebClient, csrf_of, sign_in
from tests.smtp_sink import system_relay

LINK = re.compile(r'value="https?://[^"/]+(/invite/[A-Za-z0-9_-]+)"')
NEW_PASSWORD = "a brand new passphrase 42"


def invite(admin: WebClient, email: str, role: str = "agent") -> str:
    """Invite through the members page; the invitation link shown to copy (no relay here)."""
    admin.page("/admin/members")
    r = admin.post("/admin/invitations", {"email": email, "role": role})
    assert r.status_code == 200, r.text[:500]
    found = LINK.search(r.text)
    assert found, r.text[:2000]
    assert "No mail could be sent" in r.text
    return found.group(1)


def accept(app, path: str, data: dict[str, str]) -> tuple[TestClient, object]:  # type: ignore[no-untyped-def]
    """Open the invitation in a fresh browser and submit its form."""
    browser = TestClient(app, raise_server_exceptions=False)
    page = browser.get(path)
    assert page.status_code == 200, page.text[:500]
    r = browser.post(path, data={"csrf_token": csrf_of(page.text), **data}, follow_redirects=False)
    return browser, r


def audit_actions(hub, tenant_id) -> list[str]:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        return list(
            s.scalars(
                select(TenantAudit.action)
                .where(TenantAudit.tenant_id == tenant_id)
                .order_by(TenantAudit.id)
            )
        )


@pytest.fixture
def admin(app, web_org) -> WebClient:  # type: ignore[no-untyped-def]
    return sign_in(app, web_org["admin"].email)


def test_invite_without_relay_shows_the_link_and_the_agent_lands_in_the_queue(
    app, hub, web_org, admin
) -> None:  # type: ignore[no-untyped-def]
    path = invite(admin, "sam@demo.example")
    members = admin.page("/admin/members")
    assert "Pending invitations" in members and "sam@demo.example" in members
    # Not a member before accepting.
    tenant_id = web_org["admin"].tenant_id
    with hub.session() as s:
        assert "sam@demo.example" not in [
            r[1] for r in s.execute(select(Membership.user_id, Membership.role)).all()
        ]
    page = TestClient(app).get(path)
    assert "Choose a password" in page.text and "as Agent" in page.text
    # The policy is enforced, with the reason, and the link still works afterwards.
    browser, r = accept(app, path, {"password": "short", "full_name": "Sam"})
    assert r.status_code == 422 and "at least 12 characters" in r.text  # type: ignore[attr-defined]
    browser, r = accept(app, path, {"password": NEW_PASSWORD, "full_name": "Sam Agent"})
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    home = browser.get("/", follow_redirects=True)
    assert home.url.path == "/queue" and "Sam Agent" in home.text
    # The link is used up; the invitation is no longer pending; the new agent signs in.
    again = TestClient(app).get(path)
    assert again.status_code == 401 and "already used" in again.text
    assert "sam@demo.example" not in admin.page("/admin/members").split("Pending invitations")[1]
    sign_in(app, "sam@demo.example", NEW_PASSWORD)
    actions = audit_actions(hub, tenant_id)
    assert actions.count("invitation.sent") == 1
    assert "invitation.accepted" in actions and "member.added" in actions


def test_an_end_user_invitation_goes_to_the_portal(app, admin) -> None:  # type: ignore[no-untyped-def]
    path = invite(admin, "eve@customer.example", role="end_user")
    browser, r = accept(app, path, {"password": NEW_PASSWORD, "full_name": "Eve"})
    assert r.status_code == 303  # type: ignore[attr-defined]
    assert browser.get("/", follow_redirects=True).url.path == "/tickets"


def test_invitation_mail_through_the_system_relay(app, hub, admin) -> None:  # type: ignore[no-untyped-def]
    with system_relay(hub.settings) as relay:
        admin.page("/admin/members")
        r = admin.post("/admin/invitations", {"email": "kim@demo.example", "role": "agent"})
        assert r.status_code == 303 and "/admin/members" in r.headers["location"]
        [msg] = relay.messages()
        assert msg["To"] == "kim@demo.example" and "invited" in msg["Subject"]
        [path] = relay.links("invite")
    # The console does not show the link when the mail went out.
    assert path not in admin.page("/admin/members")
    browser, r = accept(app, path, {"password": NEW_PASSWORD})
    assert r.status_code == 303  # type: ignore[attr-defined]


def test_resend_replaces_the_link_and_cancel_stops_it(app, hub, admin, web_org) -> None:  # type: ignore[no-untyped-def]
    first = invite(admin, "lee@demo.example")
    page = admin.page("/admin/members")
    [inv_id] = re.findall(r'action="/admin/invitations/(\d+)/resend"', page)
    r = admin.post(f"/admin/invitations/{inv_id}/resend")
    second = LINK.search(r.text).group(1)  # type: ignore[union-attr]
    assert second != first
    old = TestClient(app).get(first)
    assert old.status_code == 401 and "cancelled or replaced" in old.text
    assert TestClient(app).get(second).status_code == 200
    page = admin.page("/admin/members")
    [new_id] = re.findall(r'action="/admin/invitations/(\d+)/cancel"', page)
    r = admin.post(f"/admin/invitations/{new_id}/cancel")
    assert r.status_code == 303
    assert TestClient(app).get(second).status_code == 401
    assert "No pending invitations" in admin.page("/admin/members")
    actions = audit_actions(hub, web_org["admin"].tenant_id)
    assert ["invitation.sent", "invitation.resent", "invitation.cancelled"] == [
        a for a in actions if a.startswith("invitation.")
    ]


def test_expired_and_forged_links_are_refused(app, admin) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(datetime.now(UTC))
    set_clock(clock)
    path = invite(admin, "old@demo.example")
    forged = path[:-4] + ("aaaa" if not path.endswith("aaaa") else "bbbb")
    r = TestClient(app).get(forged)
    assert r.status_code == 401 and "not valid" in r.text
    clock.advance(hours=71)
    assert TestClient(app).get(path).status_code == 200
    clock.advance(hours=2)
    r = TestClient(app).get(path)
    assert r.status_code == 401 and "expired" in r.text
    page = TestClient(app).get("/invite/" + "x" * 101)
    assert page.status_code in (401, 422)
    # (the admin's session went idle meanwhile) The list flags the invitation as expired.
    assert "Expired" in sign_in(app, admin.email).page("/admin/members")


def test_another_tenants_invitation_is_404(app, admin, make_tenant, make_member) -> None:  # type: ignore[no-untyped-def]
    invite(admin, "zed@demo.example")
    page = admin.page("/admin/members")
    [inv_id] = re.findall(r'action="/admin/invitations/(\d+)/cancel"', page)
    other = make_member(make_tenant(), "admin", password=PASSWORD)
    stranger = sign_in(app, other.email)
    assert stranger.post(f"/admin/invitations/{inv_id}/cancel").status_code == 404
    assert stranger.post(f"/admin/invitations/{inv_id}/resend").status_code == 404
    assert "zed@demo.example" in admin.page("/admin/members")


def test_an_existing_account_joins_with_its_own_password(
    app, hub, admin, make_tenant, make_member
) -> None:  # type: ignore[no-untyped-def]
    elsewhere = make_member(make_tenant(), "agent", password=PASSWORD)
    path = invite(admin, elsewhere.email)
    page = TestClient(app).get(path)
    assert "already have an account" in page.text and "Choose a password" not in page.text
    _, r = accept(app, path, {"password": "not the password at all"})
    assert r.status_code == 422 and "wrong" in r.text  # type: ignore[attr-defined]
    browser, r = accept(app, path, {"password": PASSWORD})
    assert r.status_code == 303  # type: ignore[attr-defined]
    # The password is unchanged; the person now chooses between two organisations.
    sign_in(app, elsewhere.email, PASSWORD, tenant=admin_slug(hub, admin))


def admin_slug(hub, admin: WebClient) -> str:  # type: ignore[no-untyped-def]
    from core.models import Tenant, User

    with hub.session() as s:
        return str(
            s.scalar(
                select(Tenant.slug)
                .join(Membership, Membership.tenant_id == Tenant.id)
                .join(User, User.id == Membership.user_id)
                .where(User.email == admin.email)
            )
        )


def test_an_invited_agent_is_not_in_the_rotation_until_accepted(app, hub, web_org, admin) -> None:  # type: ignore[no-untyped-def]
    agent = web_org["agent"]
    end_user = web_org["end_user"]
    assert (
        web_org["admin"].patch("/api/v1/support/automation/", json={"assign_mode": "round_robin"})
    ).status_code == 200
    path = invite(admin, "new-agent@demo.example")

    def new_ticket() -> int:
        r = end_user.post(
            "/api/v1/support/tickets/",
            json={"subject": "VPN", "description": "Down", "category": "Technical Issue"},
        )
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    before = [new_ticket() for _ in range(3)]
    outbox.drain(hub)
    assigned = {agent.get(f"/api/v1/support/tickets/{t}/").json()["assigned_to"] for t in before}
    assert assigned == {agent.user_id}
    browser, r = accept(app, path, {"password": NEW_PASSWORD})
    assert r.status_code == 303  # type: ignore[attr-defined]
    after = [new_ticket() for _ in range(4)]
    outbox.drain(hub)
    assigned = {agent.get(f"/api/v1/support/tickets/{t}/").json()["assigned_to"] for t in after}
    assert len(assigned) == 2 and agent.user_id in assigned


def test_only_admins_see_the_invitation_form(app, web_org) -> None:  # type: ignore[no-untyped-def]
    agent = sign_in(app, web_org["agent"].email)
    assert agent.client.get("/admin/members").status_code == 404
    r = agent.post("/admin/invitations", {"email": "x@demo.example", "role": "agent"})
    assert r.status_code == 404


def test_guessing_an_existing_accounts_password_is_throttled(
    app, admin, make_tenant, make_member
) -> None:  # type: ignore[no-untyped-def]
    elsewhere = make_member(make_tenant(), "agent", password=PASSWORD)
    path = invite(admin, elsewhere.email)
    statuses = [
        accept(app, path, {"password": f"wrong guess {n}"})[1].status_code for n in range(6)
    ]  # type: ignore[attr-defined]
    assert statuses == [422] * 5 + [429]
    _, r = accept(app, path, {"password": PASSWORD})
    assert r.status_code == 429 and r.headers["Retry-After"]  # type: ignore[attr-defined]
