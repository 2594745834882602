"""Security issue #13, item 8, in the console: sign-out revokes the session (a copied cookie no
longer signs anyone in), the sign-in form is throttled, and a tenant admin cannot add another
tenant's account by its address."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from core import clock
from core.models import Membership
from hub.api.deps import SESSION_COOKIE
from tests.hub.web.conftest import PASSWORD, csrf_of, sign_in


def _replay(app, cookie: str):  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as other:
        other.cookies.set(SESSION_COOKIE, cookie)
        return other.get("/queue", follow_redirects=False)


def test_a_copied_cookie_is_dead_after_sign_out(app, web_org) -> None:  # type: ignore[no-untyped-def]
    web = sign_in(app, web_org["agent"].email)
    copied = web.client.cookies.get(SESSION_COOKIE)
    assert copied and _replay(app, copied).status_code == 200
    out = web.post("/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login"
    replay = _replay(app, copied)
    assert replay.status_code == 303 and replay.headers["location"].startswith("/login")


def test_an_expired_console_session_is_refused(app, web_org) -> None:  # type: ignore[no-untyped-def]
    frozen = clock.FrozenClock(datetime(2026, 5, 4, 8, 0, tzinfo=UTC))
    clock.set_clock(frozen)
    web = sign_in(app, web_org["agent"].email)
    frozen.advance(hours=13)  # idle longer than the idle timeout
    again = web.client.get("/queue", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/login")


def test_the_sign_in_form_is_throttled(app, web_org) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app, raise_server_exceptions=False)
    token = csrf_of(client.get("/login").text)
    email = web_org["agent"].email

    def attempt(password: str):  # type: ignore[no-untyped-def]
        return client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": token},
            follow_redirects=False,
        )

    assert [attempt("not the password").status_code for _ in range(5)] == [401] * 5
    refused = attempt("not the password")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 15 * 60
    assert "Too many failed sign-ins" in refused.text
    assert attempt(PASSWORD).status_code == 429  # even the right one, until the window passes


def test_admin_cannot_add_another_tenants_account(
    app,
    hub,
    web_org,
    make_tenant,  # type: ignore[no-untyped-def]
    make_member,
) -> None:
    outsider = make_member(make_tenant(), "agent", password=PASSWORD)
    web = sign_in(app, web_org["admin"].email)
    web.page("/admin/members")
    r = web.post("/admin/members", {"email": outsider.email, "role": "admin"})
    assert r.status_code == 303
    page = web.page("/admin/members")
    assert "already has an account" in page and "invitations" in page
    with hub.session() as s:
        tenants = s.scalars(
            select(Membership.tenant_id).where(Membership.user_id == outsider.user_id)
        ).all()
    assert tenants == [outsider.tenant_id]
    r = web.post("/admin/members", {"email": "fresh-person@example.com", "role": "agent"})
    assert r.status_code == 303
    assert "fresh-person@example.com" in web.page("/admin/members")
