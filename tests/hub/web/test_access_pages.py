"""The console's Security page (/admin/security) and the two-factor page (/account/two-factor),
through HTTP as a browser would drive them."""

from __future__ import annotations

import re
from typing import Any

import pyotp
from sqlalchemy import select

from core.models import TenantSecurity
from tests.hub.web.conftest import PASSWORD


def test_only_admins_have_the_security_page(web_org: dict[str, Any], signed_in: Any) -> None:
    for role in ("end_user", "agent", "manager"):
        assert signed_in(web_org[role]).client.get("/admin/security").status_code == 404
    admin = signed_in(web_org["admin"])
    html = admin.page("/admin/security")
    assert "http://hub.test/login/sso/callback" in html
    assert f"/login?org={web_org['admin'].tenant_slug}" in html
    assert 'href="/admin" aria-current="page"' in html  # the header's Admin link


def test_admin_saves_sso_and_the_secret_is_never_shown(
    web_org: dict[str, Any], signed_in: Any, hub: Any
) -> None:
    admin = signed_in(web_org["admin"])
    admin.page("/admin/security")
    form = {
        "enabled": "1",
        "issuer": "https://login.acme.example/realms/support/",
        "client_id": "support-hub",
        "client_secret": "very-secret-value-42",
        "label": "Acme login",
        "allowed_domains": "acme.example, Acme.Test",
        "default_role": "agent",
    }
    r = admin.post("/admin/security/sso", form)
    assert r.status_code == 303
    html = admin.page("/admin/security")
    assert "Single sign-on settings saved." in html
    assert "very-secret-value-42" not in html and "A secret is stored" in html
    # Kept exactly (an issuer such as Auth0's ends with a slash, and so does its tokens' "iss").
    assert 'value="https://login.acme.example/realms/support/"' in html
    assert "acme.example, acme.test" in html
    with hub.read_session() as s:
        row = s.get(TenantSecurity, web_org["admin"].tenant_id)
        assert row is not None and row.default_role == "agent" and row.sso_enabled
    # The secret field left empty keeps the secret.
    admin.post("/admin/security/sso", {**form, "client_secret": "", "label": "Acme SSO"})
    html = admin.page("/admin/security")
    assert "A secret is stored" in html and 'value="Acme SSO"' in html
    # A refused issuer: said on the page, nothing changed.
    r = admin.post("/admin/security/sso", {**form, "issuer": "https://192.168.1.10"})
    html = admin.page("/admin/security")
    assert "a private address" in html and "login.acme.example" in html


def test_admin_requires_two_factor_for_staff(
    web_org: dict[str, Any], signed_in: Any, hub: Any
) -> None:
    admin = signed_in(web_org["admin"])
    agent = signed_in(web_org["agent"])
    admin.page("/admin/security")
    admin.post("/admin/security/two-factor", {"required": "1"})
    assert "your own account first" in admin.page("/admin/security")
    admin.post("/account/two-factor/begin")
    secret = re.search(
        r'id="totp-secret" class="secret">([A-Z2-7]+)<', admin.page("/account/two-factor")
    )
    assert secret
    admin.post("/account/two-factor/confirm", {"code": pyotp.TOTP(secret.group(1)).now()})
    admin.page("/admin/security")
    admin.post("/admin/security/two-factor", {"required": "1"})
    html = admin.page("/admin/security")
    assert "Two-factor is required for agents and admins. 1 session ended." in html
    with hub.read_session() as s:
        row = s.get(TenantSecurity, web_org["admin"].tenant_id)
        assert row is not None and row.require_two_factor
    # The agent has no second factor: their session ended with the policy.
    assert agent.client.get("/queue", follow_redirects=False).status_code == 303


def test_a_person_sets_up_and_turns_off_two_factor(web_org: dict[str, Any], signed_in: Any) -> None:
    user = signed_in(web_org["end_user"])
    html = user.page("/account/two-factor")
    assert "Two-factor sign-in is off." in html
    assert user.post("/account/two-factor/begin").status_code == 303
    html = user.page("/account/two-factor")
    secret = re.search(r'id="totp-secret" class="secret">([A-Z2-7]+)<', html)
    assert secret and "<svg" in html and "otpauth://totp/" in html
    wrong = user.post("/account/two-factor/confirm", {"code": "000000"})
    assert wrong.status_code == 303
    assert "not right" in user.page("/account/two-factor")
    r = user.post("/account/two-factor/confirm", {"code": pyotp.TOTP(secret.group(1)).now()})
    assert r.status_code == 200 and len(re.findall(r"<li><code>", r.text)) == 10
    html = user.page("/account/two-factor")
    assert "Two-factor sign-in is on." in html and "10 recovery codes left" in html
    assert "<li><code>" not in html  # shown once only
    r = user.post("/account/two-factor/disable", {"password": PASSWORD})
    assert r.status_code == 303
    assert "Two-factor sign-in is off." in user.page("/account/two-factor")


def test_the_sign_in_page_offers_sso_by_organisation(
    web_org: dict[str, Any], signed_in: Any, client: Any, hub: Any
) -> None:
    html = client.get("/login").text
    assert 'action="/login/sso"' in html and 'name="tenant"' in html
    with hub.read_session() as s:
        assert s.scalar(select(TenantSecurity.tenant_id)) is None
