"""Security issue #13, item 8: revocable server-side sessions, sign-in throttling, the password
policy, and no cross-tenant membership without consent -- through the API."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from core import clock
from core.errors import Invalid
from core.models import AuthSession, Membership
from core.services import identity, sessions
from hub import ratelimit
from hub.api.deps import SESSION_COOKIE
from hub.settings import Settings

PASSWORD = "correct horse battery staple"


def _login(client: TestClient, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def _replay(app, cookie: str) -> int:  # type: ignore[no-untyped-def]
    """/me with only a copy of the session cookie, from a client that never signed out."""
    with TestClient(app, raise_server_exceptions=False) as other:
        other.cookies.set(SESSION_COOKIE, cookie)
        return other.get("/api/v1/me").status_code


# ------------------------------------------------------------------ sessions


def test_sign_out_revokes_a_copied_session_cookie(app, client, make_tenant, make_member) -> None:  # type: ignore[no-untyped-def]
    member = make_member(make_tenant(), "agent", password=PASSWORD)
    r = _login(client, member.email)
    assert r.status_code == 200, r.text
    copied = client.cookies.get(SESSION_COOKIE)
    assert copied and _replay(app, copied) == 200
    assert client.post("/api/v1/auth/logout").status_code == 200
    assert _replay(app, copied) == 401  # the copy was valid for 14 days before


def test_the_cookie_carries_only_a_random_id_and_the_table_only_its_hash(  # type: ignore[no-untyped-def]
    hub, client, make_tenant, make_member
) -> None:
    member = make_member(make_tenant(), "agent", password=PASSWORD)
    assert _login(client, member.email).status_code == 200
    cookie = client.cookies.get(SESSION_COOKIE)
    sid = hub_sid(hub, cookie)
    with hub.session() as s:
        rows = s.scalars(select(AuthSession).where(AuthSession.user_id == member.user_id)).all()
        assert len(rows) == 1 and rows[0].id != sid and len(rows[0].id) == 64
        assert rows[0].tenant_id == member.tenant_id and rows[0].user_agent
    payload = URLSafeTimedSerializer(hub.keyring.session_key, salt="hub-session").loads(cookie)
    assert payload == {"s": sid}  # no user, tenant or CSRF token in the cookie any more


def hub_sid(hub, cookie: str) -> str:  # type: ignore[no-untyped-def]
    from hub.api.deps import read_session_cookie

    sid = read_session_cookie(hub, cookie)
    assert sid
    return sid


def test_idle_and_absolute_expiry(app, client, make_tenant, make_member) -> None:  # type: ignore[no-untyped-def]
    frozen = clock.FrozenClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    clock.set_clock(frozen)
    member = make_member(make_tenant(), "agent", password=PASSWORD)
    assert _login(client, member.email).status_code == 200
    cookie = client.cookies.get(SESSION_COOKIE)
    frozen.advance(hours=11)
    assert _replay(app, cookie) == 200  # used: the idle timeout starts again
    frozen.advance(hours=11)
    assert _replay(app, cookie) == 200
    frozen.advance(hours=13)
    assert _replay(app, cookie) == 401  # idle for 13 hours

    assert _login(client, member.email).status_code == 200
    cookie = client.cookies.get(SESSION_COOKIE)
    for _ in range(30):  # active every 12 hours, but 14 days after sign-in it ends
        frozen.advance(hours=11, minutes=59)
        if _replay(app, cookie) != 200:
            break
    assert _replay(app, cookie) == 401
    assert frozen.at - datetime(2026, 3, 1, 9, 0, tzinfo=UTC) > sessions.ABSOLUTE_TIMEOUT


def test_revoke_every_session_of_a_user(hub, app, client, make_tenant, make_member) -> None:  # type: ignore[no-untyped-def]
    member = make_member(make_tenant(), "agent", password=PASSWORD)
    other = make_member((member.tenant_id, member.tenant_slug), "agent", password=PASSWORD)
    cookies = []
    for who in (member, member, other):
        assert _login(client, who.email).status_code == 200
        cookies.append(client.cookies.get(SESSION_COOKIE))
        client.cookies.clear()
    with hub.session() as s:
        assert sessions.revoke_all_for_user(s, member.user_id) == 2
    assert [_replay(app, c) for c in cookies] == [401, 401, 200]
    # A password change signs the user out everywhere, too.
    with hub.session() as s:
        identity.set_password(s, s.get(identity.User, other.user_id), "a new passphrase 42")
    assert _replay(app, cookies[2]) == 401


# ------------------------------------------------------------------ throttling


def test_api_sign_in_is_throttled_per_account_and_client(client, make_tenant, make_member) -> None:  # type: ignore[no-untyped-def]
    member = make_member(make_tenant(), "agent", password=PASSWORD)
    codes = [_login(client, member.email, "wrong password!").status_code for _ in range(5)]
    assert codes == [401] * 5
    r = _login(client, member.email, "wrong password!")
    assert r.status_code == 429, r.text
    assert 0 < int(r.headers["retry-after"]) <= 15 * 60
    assert "too many failed sign-ins" in r.json()["detail"].lower()
    # Locked out: the right password is refused too (else the lock-out tells a guesser).
    assert _login(client, member.email).status_code == 429


def test_api_sign_in_throttled_per_client_across_accounts(client, make_tenant, make_member) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    member = make_member(tenant, "agent", password=PASSWORD)
    for i in range(20):  # four failures each on five made-up accounts
        assert _login(client, f"guess{i % 5}@example.com", "wrong password!").status_code == 401
    r = _login(client, member.email)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_a_right_password_works_again_after_the_window(
    hub, client, make_tenant, make_member
) -> None:  # type: ignore[no-untyped-def]
    ratelimit.install(
        hub,
        ratelimit.SignInThrottle("memory://", per_account="5/20 seconds", per_ip="20/20 seconds"),
    )
    try:
        member = make_member(make_tenant(), "agent", password=PASSWORD)
        for _ in range(5):
            assert _login(client, member.email, "wrong password!").status_code == 401
        r = _login(client, member.email)
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) <= 20
        time.sleep(int(r.headers["retry-after"]) + 0.5)
        assert _login(client, member.email).status_code == 200
    finally:
        ratelimit.install(hub, ratelimit.SignInThrottle())


def test_throttle_counts_in_redis(hub) -> None:  # type: ignore[no-untyped-def]
    """With Redis storage (the broker's, when it is Redis) all processes count together."""
    import uuid

    from tests.services import require

    require("127.0.0.1", 6379)
    uri = "redis://127.0.0.1:6379/0"
    one, two = ratelimit.SignInThrottle(uri), ratelimit.SignInThrottle(uri)
    email, ip = f"{uuid.uuid4().hex}@example.com", f"test-{uuid.uuid4().hex}"
    for _ in range(3):
        one.failed(email, ip)
    for _ in range(2):
        two.failed(email, ip)
    refused = one.blocked(email, ip)
    assert refused is not None and refused.retry_after > 0
    assert ratelimit.storage_uri(hub) == "memory://"  # the tests' broker is not Redis

    def uri_for(**values: str) -> str:
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        return ratelimit.storage_uri(type("FakeHub", (), {"settings": settings})())

    assert uri_for(broker_url="redis://127.0.0.1:6379/3") == "redis://127.0.0.1:6379/3"
    assert (
        uri_for(broker_url="redis://127.0.0.1:6379/3", rate_limit_storage="memory://")
        == "memory://"
    )  # said explicitly: kept
    assert uri_for(rate_limit_storage="redis://r:6379/1") == "redis://r:6379/1"


def test_repeated_lockouts_back_off_exponentially() -> None:
    """The second lock-out of an account from one client holds twice the window, and a right
    password (once let through) forgives the lock-outs."""
    throttle = ratelimit.SignInThrottle("memory://", per_account="2/1 second", per_ip="99/1 second")
    email, ip = "dora@example.com", "192.0.2.7"
    for _ in range(2):
        assert throttle.blocked(email, ip) is None
        throttle.failed(email, ip)
    first = throttle.blocked(email, ip)
    assert first is not None and first.retry_after <= 1
    time.sleep(1.1)
    for _ in range(2):
        assert throttle.blocked(email, ip) is None
        throttle.failed(email, ip)
    second = throttle.blocked(email, ip)
    assert second is not None and second.retry_after == 2  # 1 s window * 2
    time.sleep(1.1)
    held = throttle.blocked(email, ip)  # the window alone would let it through now
    assert held is not None and held.retry_after <= 1
    time.sleep(held.retry_after + 0.1)
    assert throttle.blocked(email, ip) is None
    throttle.succeeded(email, ip)
    for _ in range(2):
        throttle.failed(email, ip)
    again = throttle.blocked(email, ip)
    assert again is not None and again.retry_after <= 1  # forgiven: a first lock-out again
    assert throttle.blocked("someone-else@example.com", ip) is None


# ------------------------------------------------------------------ password policy


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("x", "at least 12 characters"),
        ("short-pw", "at least 12 characters"),
        ("dora@example.com", "email address"),
        ("Password123", "most common"),
        ("1234567890", "most common"),
        ("aaaaaaaaaaaa", "most common"),
    ],
)
def test_password_policy(hub, password: str, rule: str) -> None:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        with pytest.raises(Invalid) as caught:
            identity.ensure_user(s, email="dora@example.com", password=password)
        assert rule in caught.value.message and caught.value.field == "password"
        assert password not in caught.value.message or rule == "email address"
        user = identity.ensure_user(s, email="dora@example.com", password="a fine passphrase")
        with pytest.raises(Invalid):
            identity.set_password(s, user, password)


# ------------------------------------------------------------------ members


def test_admin_cannot_add_another_tenants_account(hub, org, other_org) -> None:  # type: ignore[no-untyped-def]
    victim = other_org.agent
    r = org.admin.post(
        "/api/v1/admin/members/", json={"email": victim.email.upper(), "role": "admin"}
    )
    assert r.status_code == 409, r.text
    assert "already has an account" in r.json()["detail"]
    assert "invitations" in r.json()["detail"]
    with hub.session() as s:
        assert identity.membership(s, org.tenant[0], victim.user_id) is None
        assert (
            s.scalar(select(Membership.role).where(Membership.user_id == victim.user_id)) == "agent"
        )
    # A brand-new address is created as before; a member's role can still be changed.
    r = org.admin.post(
        "/api/v1/admin/members/", json={"email": "brand-new@example.com", "role": "agent"}
    )
    assert r.status_code == 201, r.text
    r = org.admin.post("/api/v1/admin/members/", json={"email": org.agent.email, "role": "admin"})
    assert r.status_code == 201 and r.json()["role"] == "admin"
