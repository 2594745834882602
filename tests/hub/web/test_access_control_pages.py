"""The console's account page (name, password, sessions, tokens) and the admin's offboarding,
token and rate-limit controls, through the pages' own forms."""

from __future__ import annotations

import re
from urllib.parse import unquote

from sqlalchemy import select

from core.models import ApiToken, TenantAudit, Ticket
from tests.hub.web.conftest import PASSWORD, sign_in

NEW_PASSWORD = "a quite different passphrase"


def _flash(response) -> str:  # type: ignore[no-untyped-def]
    return unquote(response.cookies.get("hub_flash", "") or "")


def test_account_name_password_and_sessions(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    agent = web_org["agent"]
    other = sign_in(app, agent.email)  # a second device
    web = sign_in(app, agent.email)
    page = web.page("/account")
    assert "This device" in page and page.count("Sign out</button>") >= 1
    assert agent.email in page and 'href="/account"' in page
    assert 'href="/account/two-factor"' in page  # the Security section

    r = web.post("/account/profile", {"full_name": "  Ann   Agent "})
    assert r.status_code == 303 and "saved" in _flash(r)
    assert "Ann Agent" in web.page("/account")

    wrong = web.post(
        "/account/password",
        {
            "current_password": "nope",
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert "current password is wrong" in _flash(wrong)
    weak = web.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
    )
    assert "12 characters" in _flash(weak)
    ok = web.post(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert ok.status_code == 303 and "1 other session signed out" in _flash(ok)
    assert web.client.get("/account").status_code == 200  # this one stays
    assert other.client.get("/account", follow_redirects=False).status_code == 303
    third = sign_in(app, agent.email, password=NEW_PASSWORD)

    # One other session by its key, then all others, then everywhere.
    page = web.page("/account")
    keys = re.findall(r"/account/sessions/([0-9a-f]{16})/revoke", page)
    assert len(keys) == 1
    r = web.post(f"/account/sessions/{keys[0]}/revoke")
    assert "signed out" in _flash(r)
    assert third.client.get("/account", follow_redirects=False).status_code == 303
    fourth = sign_in(app, agent.email, password=NEW_PASSWORD)
    web.page("/account")
    r = web.post("/account/sessions/revoke", {"which": "others"})
    assert "1 other session signed out" in _flash(r)
    assert fourth.client.get("/account", follow_redirects=False).status_code == 303
    web.page("/account")
    r = web.post("/account/sessions/revoke", {"which": "everywhere"})
    assert r.headers["location"] == "/login"
    assert web.client.get("/account", follow_redirects=False).status_code == 303
    with hub.session() as s:
        actions = [a for a in s.scalars(select(TenantAudit.action))]
        details = repr([d for d in s.scalars(select(TenantAudit.details))])
    assert {"profile.changed", "password.changed", "sessions.revoked"} <= set(actions)
    assert NEW_PASSWORD not in details and PASSWORD not in details


def test_tokens_on_the_account_page(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    web = sign_in(app, web_org["agent"].email)
    page = web.page("/account")
    assert 'value="admin"' not in page  # an agent is not offered admin scope
    r = web.post("/account/tokens", {"name": "laptop", "scope": "read", "expires": "30"})
    assert r.status_code == 201
    token = re.search(r'id="new-token" value="(hub_[^"]+)"', r.text)
    assert token, r.text[:500]
    listed = web.page("/account")
    assert token.group(1) not in listed and token.group(1)[:12] in listed
    assert (
        web.client.get(
            "/api/v1/support/tickets/", headers={"Authorization": f"Bearer {token.group(1)}"}
        ).status_code
        == 200
    )
    with hub.session() as s:
        row = s.scalars(select(ApiToken).where(ApiToken.name == "laptop")).one()
    assert row.scope == "read" and row.expires_at is not None
    r = web.post(f"/account/tokens/{row.id}/revoke")
    assert "revoked" in _flash(r)
    assert (
        web.client.get(
            "/api/v1/support/tickets/", headers={"Authorization": f"Bearer {token.group(1)}"}
        ).status_code
        == 401
    )
    # Someone else's token is not theirs to revoke.
    theirs = web_org["end_user"]
    with hub.session() as s:
        foreign = s.scalars(select(ApiToken.id).where(ApiToken.user_id == theirs.user_id)).first()
    r = web.post(f"/account/tokens/{foreign}/revoke")
    assert "not found" in _flash(r)


def test_admin_offboards_from_the_members_page(app, hub, web_org, make_member) -> None:  # type: ignore[no-untyped-def]
    admin = sign_in(app, web_org["admin"].email)
    agent = web_org["agent"]
    other = make_member((agent.tenant_id, agent.tenant_slug), "agent", password=PASSWORD)
    tid = (
        web_org["end_user"]
        .post(
            "/api/v1/support/tickets/",
            json={"subject": "VPN", "description": "down", "category": "Other"},
        )
        .json()["id"]
    )
    web_org["admin"].patch(f"/api/v1/support/tickets/{tid}/", json={"assigned_to": agent.user_id})
    agent_web = sign_in(app, agent.email)

    page = admin.page("/admin/members")
    assert f"/admin/members/{agent.user_id}/deactivate" in page
    assert f"Reassign to {other.email}" in page
    r = admin.post(
        f"/admin/members/{agent.user_id}/deactivate", {"reassign_to": str(other.user_id)}
    )
    assert "1 open ticket reassigned" in _flash(r), _flash(r)
    assert agent_web.client.get("/queue", follow_redirects=False).status_code == 303
    with hub.session() as s:
        assert s.get(Ticket, tid).assigned_to == other.user_id  # type: ignore[union-attr]
    page = admin.page("/admin/members")
    assert "Deactivated" in page and f"/admin/members/{agent.user_id}/reactivate" in page
    r = admin.post(f"/admin/members/{agent.user_id}/reactivate")
    assert "Reactivated" in _flash(r)
    assert sign_in(app, agent.email).client.get("/queue").status_code == 200

    r = admin.post(f"/admin/members/{agent.user_id}/role", {"role": "manager"})
    assert "Manager" in _flash(r)
    r = admin.post(f"/admin/members/{web_org['admin'].user_id}/deactivate", {"reassign_to": ""})
    assert "yourself" in _flash(r)
    r = admin.post(f"/admin/members/{other.user_id}/remove", {"reassign_to": ""})
    assert "Removed" in _flash(r) and "1 open ticket unassigned" in _flash(r)
    assert other.email not in admin.page("/admin/members")


def test_admin_tokens_page_and_rate_limit(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    admin = sign_in(app, web_org["admin"].email)
    page = admin.page("/admin/tokens")
    for role in ("agent", "end_user", "manager"):
        assert web_org[role].email in page
    assert web_org["agent"].token not in page
    with hub.session() as s:
        token_id = s.scalars(
            select(ApiToken.id).where(ApiToken.user_id == web_org["agent"].user_id)
        ).first()
    r = admin.post(f"/admin/tokens/{token_id}/revoke")
    assert "revoked" in _flash(r)
    assert web_org["agent"].get("/api/v1/support/tickets/").status_code == 401
    r = admin.post("/admin/rate-limit", {"per_token": "bogus"})
    assert "600/minute" in _flash(r)
    r = admin.post("/admin/rate-limit", {"per_token": "900/minute"})
    assert "900/minute" in _flash(r)
    assert web_org["end_user"].get("/api/v1/support/tickets/").headers["ratelimit-limit"] == "900"
    agent = sign_in(app, web_org["manager"].email)
    assert agent.client.get("/admin/tokens").status_code == 404
