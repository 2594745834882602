"""Single sign-on (OpenID Connect) end to end: the real node-oidc-provider for discovery and the
code flow with PKCE; a hand-made provider for the ID tokens a real one never mints."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from sqlalchemy import select

from core.models import TenantAudit, TenantSecurity, User
from core.services import identity, two_factor
from hub.api.deps import SESSION_COOKIE
from hub.sso import SsoError, check_id_token
from tests.conftest import TenantSet
from tests.faults import failing_commits
from tests.hub.web.conftest import PASSWORD, csrf_of
from tests.oidc import CLIENT_ID, CLIENT_SECRET, log_in_at_provider

SSO = "/api/v1/admin/sso/"


def configure(org: TenantSet, issuer: str, **over: Any) -> dict[str, Any]:
    body = {
        "enabled": True,
        "issuer": issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "label": "Acme login",
        "allowed_domains": ["acme.example"],
        **over,
    }
    r = org.admin.client.put(SSO, json=body, headers=org.admin.headers)
    assert r.status_code == 200, r.text
    return r.json()


def start(client: TestClient, slug: str) -> str:
    """The hub's redirect to the provider (the flow cookie is now in the client)."""
    r = client.get("/login/sso", params={"tenant": slug}, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    return r.headers["location"]


def come_back(client: TestClient, url: str) -> Any:
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def audit_rows(hub: Any, tenant_id: Any, action: str) -> list[tuple[str, Any]]:
    """(target_email, details) of the tenant's audit rows of one action, oldest first."""
    with hub.read_session() as s:
        return [
            (r.target_email, r.details)
            for r in s.scalars(
                select(TenantAudit)
                .where(TenantAudit.tenant_id == tenant_id, TenantAudit.action == action)
                .order_by(TenantAudit.id)
            )
        ]


@pytest.fixture
def fresh(app: Any) -> TestClient:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_code_flow_with_pkce_signs_in_through_the_real_provider(
    org: TenantSet, oidc_provider: Any, fresh: TestClient, hub: Any
) -> None:
    configure(org, oidc_provider.issuer, default_role="agent")
    authorize = start(fresh, org.admin.tenant_slug)
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(oidc_provider.issuer + "/auth?")
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["nonce"][0] and query["state"][0] and query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["http://hub.test/login/sso/callback"]
    back = log_in_at_provider(authorize, "pat@acme.example", oidc_provider.redirect_uri)
    assert "code=" in back
    r = come_back(fresh, back)
    assert r.status_code == 303 and r.headers["location"] == "/", r.text[:500]
    assert fresh.cookies.get(SESSION_COOKIE)
    me = fresh.get("/api/v1/me").json()
    assert me["email"] == "pat@acme.example" and me["role"] == "agent"
    rows = audit_rows(hub, org.admin.tenant_id, "signin")
    assert [d for email, d in rows if email == "pat@acme.example"] == [{"via": "sso"}]
    # The second sign-in finds the same person (no second account, role kept).
    authorize = start(fresh, org.admin.tenant_slug)
    r = come_back(
        fresh, log_in_at_provider(authorize, "pat@acme.example", oidc_provider.redirect_uri)
    )
    assert r.status_code == 303
    with hub.read_session() as s:
        assert len(list(s.scalars(select(User).where(User.email == "pat@acme.example")))) == 1


def test_a_code_is_good_once_and_only_with_its_own_browser(
    org: TenantSet, oidc_provider: Any, fresh: TestClient, app: Any
) -> None:
    configure(org, oidc_provider.issuer)
    authorize = start(fresh, org.admin.tenant_slug)
    back = log_in_at_provider(authorize, "kim@acme.example", oidc_provider.redirect_uri)
    with TestClient(app, raise_server_exceptions=False) as other:  # no flow cookie
        r = come_back(other, back)
        assert r.status_code == 400 and not other.cookies.get(SESSION_COOKIE)
    forged = re.sub(r"state=[^&]+", "state=forged", back)
    assert come_back(fresh, forged).status_code == 400
    assert come_back(fresh, back).status_code == 303
    # The same code again: the provider refuses it, the hub signs nobody in.
    fresh.cookies.clear()
    authorize = start(fresh, org.admin.tenant_slug)
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    replay = re.sub(r"state=[^&]+", f"state={state}", back)
    r = come_back(fresh, replay)
    assert r.status_code == 403 and not fresh.cookies.get(SESSION_COOKIE)


@pytest.mark.parametrize(
    ("login", "reason"),
    [
        ("eve@other.example", "domain_not_allowed"),
        ("unverified@acme.example", "email_not_verified"),
    ],
)
def test_addresses_not_allowed_or_not_verified_are_refused(
    org: TenantSet, oidc_provider: Any, fresh: TestClient, hub: Any, login: str, reason: str
) -> None:
    configure(org, oidc_provider.issuer)
    back = log_in_at_provider(
        start(fresh, org.admin.tenant_slug), login, oidc_provider.redirect_uri
    )
    r = come_back(fresh, back)
    assert r.status_code == 403 and not fresh.cookies.get(SESSION_COOKIE)
    assert "cannot sign in" in r.text or "not verified" in r.text
    rows = audit_rows(hub, org.admin.tenant_id, "sso.refused")
    assert [d for _, d in rows] == [{"reason": reason}]
    with hub.read_session() as s:
        assert s.scalar(select(User.id).where(User.email == login)) is None


@pytest.mark.parametrize(
    ("shape", "reason"),
    [
        ({"tamper": True}, "bad_signature"),
        ({"claims": {"aud": "someone-else"}}, "wrong_audience"),
        ({"claims": {"exp": 1_000_000_000, "iat": 999_999_000}}, "expired"),
        ({"claims": {"nonce": "not-the-one-we-sent"}}, "wrong_nonce"),
        ({"claims": {"iss": "https://evil.example"}}, "wrong_issuer"),
        ({"claims": {"nonce": None}}, "wrong_nonce"),
        ({"claims": {"sub": None}}, "bad_claims"),
    ],
)
def test_bad_id_tokens_are_refused(
    org: TenantSet,
    minting_provider: Any,
    fresh: TestClient,
    hub: Any,
    shape: dict[str, Any],
    reason: str,
) -> None:
    configure(org, minting_provider.issuer)
    authorize = start(fresh, org.admin.tenant_slug)
    query = parse_qs(urlsplit(authorize).query)
    minting_provider.nonce = query["nonce"][0]
    minting_provider.tamper = bool(shape.get("tamper"))
    minting_provider.claims = dict(shape.get("claims", {}))
    r = fresh.get(
        "/login/sso/callback",
        params={"code": "c0de", "state": query["state"][0]},
        follow_redirects=False,
    )
    assert r.status_code == 403, r.text[:300]
    assert not fresh.cookies.get(SESSION_COOKIE)
    assert [d for _, d in audit_rows(hub, org.admin.tenant_id, "sso.refused")] == [
        {"reason": reason}
    ]


def test_the_minted_token_itself_is_good(
    org: TenantSet, minting_provider: Any, fresh: TestClient
) -> None:
    """The refusals above are about the one thing each changes: unchanged, it signs in."""
    configure(org, minting_provider.issuer)
    query = parse_qs(urlsplit(start(fresh, org.admin.tenant_slug)).query)
    minting_provider.nonce = query["nonce"][0]
    r = fresh.get(
        "/login/sso/callback",
        params={"code": "c0de", "state": query["state"][0]},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]
    assert fresh.get("/api/v1/me").json()["email"] == "pat@acme.example"


def test_an_account_of_another_tenant_is_not_taken_over(
    org: TenantSet, other_org: TenantSet, minting_provider: Any, fresh: TestClient, hub: Any
) -> None:
    """A tenant's provider vouching for an address another organisation holds gets nothing."""
    configure(org, minting_provider.issuer, allowed_domains=["example.com"])
    query = parse_qs(urlsplit(start(fresh, org.admin.tenant_slug)).query)
    minting_provider.nonce = query["nonce"][0]
    minting_provider.claims = {"email": other_org.admin.email}
    r = fresh.get(
        "/login/sso/callback",
        params={"code": "c0de", "state": query["state"][0]},
        follow_redirects=False,
    )
    assert r.status_code == 403 and "another organisation" in r.text
    assert [d for _, d in audit_rows(hub, org.admin.tenant_id, "sso.refused")] == [
        {"reason": "account_of_another_tenant"}
    ]


def test_sso_settings_keep_the_secret_write_only(org: TenantSet, hub: Any) -> None:
    got = configure(org, "https://login.acme.example/realms/support")
    assert got["client_secret_set"] is True and "client_secret" not in got
    assert CLIENT_SECRET not in org.admin.get(SSO).text
    assert got["redirect_uri"] == "http://hub.test/login/sso/callback"
    with hub.read_session() as s:
        row = s.get(TenantSecurity, org.admin.tenant_id)
        assert row is not None and CLIENT_SECRET not in (row.client_secret_encrypted or "")
    audits = audit_rows(hub, org.admin.tenant_id, "sso.settings_changed")
    assert "client_secret" in audits[0][1]["changed"]
    assert CLIENT_SECRET not in repr(audits)
    # A change without a secret keeps the stored one.
    r = org.admin.client.put(SSO, json={"label": "Acme SSO"}, headers=org.admin.headers)
    assert r.status_code == 200 and r.json()["client_secret_set"] is True
    assert r.json()["label"] == "Acme SSO"


@pytest.mark.parametrize(
    ("issuer", "field"),
    [
        ("https://10.1.2.3/realms/x", "a private address"),
        ("http://login.acme.example", "https"),
        ("ftp://login.acme.example", "https"),
    ],
)
def test_an_issuer_the_hub_must_not_reach_is_refused(
    org: TenantSet, issuer: str, field: str
) -> None:
    r = org.admin.client.put(SSO, json={"issuer": issuer}, headers=org.admin.headers)
    assert r.status_code == 422 and field in r.text, r.text


def test_turning_sso_on_needs_everything(org: TenantSet) -> None:
    r = org.admin.client.put(SSO, json={"enabled": True}, headers=org.admin.headers)
    assert r.status_code == 422 and "issuer" in r.text


def test_the_sign_in_page_names_no_organisation_without_a_link(
    org: TenantSet, other_org: TenantSet, oidc_provider: Any, fresh: TestClient
) -> None:
    configure(org, oidc_provider.issuer)
    plain = fresh.get("/login").text
    assert "Acme login" not in plain and org.admin.tenant_slug not in plain
    linked = fresh.get("/login", params={"org": org.admin.tenant_slug}).text
    assert "Sign in with Acme login" in linked
    # An organisation without SSO and one that does not exist look the same.
    without = fresh.get("/login/sso", params={"tenant": other_org.admin.tenant_slug})
    unknown = fresh.get("/login/sso", params={"tenant": "no-such-org"})
    assert without.status_code == unknown.status_code == 404
    assert "does not offer single sign-on" in without.text and "does not offer" in unknown.text


def test_require_sso_for_staff_refuses_their_passwords(
    org: TenantSet, make_member: Any, oidc_provider: Any, fresh: TestClient, hub: Any
) -> None:
    agent = make_member(org.tenant, "agent", email="sam@acme.example", password=PASSWORD)
    user = make_member(org.tenant, "end_user", password=PASSWORD)
    configure(org, oidc_provider.issuer, require_sso_for_staff=True)
    page = fresh.get("/login")
    r = fresh.post(
        "/login",
        data={"email": agent.email, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert (
        r.status_code == 403 and "requires agents and admins to sign in with Acme login" in r.text
    )
    assert "Sign in with Acme login" in r.text  # the way that works, right there
    assert not fresh.cookies.get(SESSION_COOKIE)
    api = fresh.post("/api/v1/auth/login", json={"email": agent.email, "password": PASSWORD})
    assert api.status_code == 403 and "Acme login" in api.json()["detail"]
    # End users keep their passwords; tokens keep working (documented).
    ok = fresh.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert ok.status_code == 200, ok.text
    assert agent.get("/api/v1/me").status_code == 200
    # SSO itself works for the agent.
    fresh.cookies.clear()
    back = log_in_at_provider(
        start(fresh, org.admin.tenant_slug), agent.email, oidc_provider.redirect_uri
    )
    assert come_back(fresh, back).status_code == 303
    assert fresh.get("/api/v1/me").json()["role"] == "agent"  # a member keeps their role


def _minted_callback(fresh: TestClient, org: TenantSet, provider: Any) -> Any:
    query = parse_qs(urlsplit(start(fresh, org.admin.tenant_slug)).query)
    provider.nonce = query["nonce"][0]
    return fresh.get(
        "/login/sso/callback",
        params={"code": "c0de", "state": query["state"][0]},
        follow_redirects=False,
    )


def test_the_callback_answers_only_after_its_commit(
    org: TenantSet, minting_provider: Any, fresh: TestClient, hub: Any
) -> None:
    """The callback is a GET that writes (the person, the membership, the session)."""
    configure(org, minting_provider.issuer)
    with failing_commits() as commits:
        r = _minted_callback(fresh, org, minting_provider)
    assert commits and r.status_code >= 500 and not fresh.cookies.get(SESSION_COOKIE)
    with hub.read_session() as s:
        assert s.scalar(select(User.id).where(User.email == "pat@acme.example")) is None
    assert _minted_callback(fresh, org, minting_provider).status_code == 303


def test_sso_still_asks_for_the_second_factor(
    org: TenantSet, minting_provider: Any, fresh: TestClient, hub: Any
) -> None:
    configure(org, minting_provider.issuer)
    with hub.session() as s:
        user = identity.ensure_user(s, email="pat@acme.example")
        identity.ensure_member(s, org.admin.tenant_id, user, "agent")
        secret = two_factor.begin(s, user, hub.keyring).secret
        two_factor.confirm(s, user, hub.keyring, pyotp.TOTP(secret).now())
    r = _minted_callback(fresh, org, minting_provider)
    assert r.status_code == 200 and "Two-factor sign-in" in r.text
    assert not fresh.cookies.get(SESSION_COOKIE)
    assert 'action="/login/two-factor"' in r.text


def _claims(**over: Any) -> dict[str, Any]:
    import time

    at = int(time.time())
    return {
        "iss": "https://login.acme.example",
        "aud": CLIENT_ID,
        "sub": "u1",
        "iat": at,
        "exp": at + 300,
        "nonce": "n1",
        **over,
    }


def _check(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    return check_id_token(
        token, jwks, issuer="https://login.acme.example", client_id=CLIENT_ID, nonce="n1"
    )


def test_id_token_algorithms_other_than_the_providers_keys_are_refused() -> None:
    """No "none", and no HMAC with the client secret (the secret is known to the client)."""
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    jwks = {"keys": [key.as_dict(private=False)]}
    assert _check(jwt.encode({"alg": "RS256", "kid": "k1"}, _claims(), key), jwks)["sub"] == "u1"
    secret = OctKey.import_key(CLIENT_SECRET)
    hmac_token = jwt.encode({"alg": "HS256", "kid": "k1"}, _claims(), secret)
    with pytest.raises(SsoError) as refused:
        _check(hmac_token, {"keys": [*jwks["keys"], secret.as_dict()]})
    assert refused.value.reason == "bad_signature"
    head = base64.urlsafe_b64encode(b'{"alg":"none"}').decode().rstrip("=")
    body = base64.urlsafe_b64encode(json.dumps(_claims()).encode()).decode().rstrip("=")
    with pytest.raises(SsoError) as refused:
        _check(f"{head}.{body}.", jwks)
    assert refused.value.reason == "bad_signature"
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # same kid, another key
    with pytest.raises(SsoError) as refused:
        _check(jwt.encode({"alg": "RS256", "kid": "k1"}, _claims(), other), jwks)
    assert refused.value.reason == "bad_signature"


def test_a_token_for_several_audiences_needs_us_as_its_authorized_party() -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    jwks = {"keys": [key.as_dict(private=False)]}
    several = _claims(aud=[CLIENT_ID, "another-app"])
    with pytest.raises(SsoError) as refused:
        _check(jwt.encode({"alg": "RS256", "kid": "k1"}, several, key), jwks)
    assert refused.value.reason == "wrong_audience"
    ours = {**several, "azp": CLIENT_ID}
    assert _check(jwt.encode({"alg": "RS256", "kid": "k1"}, ours, key), jwks)["azp"] == CLIENT_ID


def test_an_invited_person_accepts_by_signing_in_with_sso(
    org: TenantSet, other_org: TenantSet, minting_provider: Any, fresh: TestClient, hub: Any
) -> None:
    """An invitation is accepted through SSO with the invited role, even by an account of
    another organisation (the admin asked for it); the link is then used up."""
    configure(org, minting_provider.issuer, allowed_domains=["example.com"])
    invited = other_org.agent.email
    r = org.admin.post("/api/v1/admin/invitations/", json={"email": invited, "role": "agent"})
    assert r.status_code == 201, r.text
    query = parse_qs(urlsplit(start(fresh, org.admin.tenant_slug)).query)
    minting_provider.nonce = query["nonce"][0]
    minting_provider.claims = {"email": invited}
    r = fresh.get(
        "/login/sso/callback",
        params={"code": "c0de", "state": query["state"][0]},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]
    me = fresh.get("/api/v1/me").json()
    assert me["email"] == invited and me["role"] == "agent"
    assert me["tenant_id"] == str(org.admin.tenant_id)
    pending = org.admin.get("/api/v1/admin/invitations/").json()
    assert invited not in json.dumps(pending)
    assert [d for _, d in audit_rows(hub, org.admin.tenant_id, "invitation.accepted")] == [
        {"role": "agent", "via": "sso"}
    ]
