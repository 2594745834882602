"""Two-factor (TOTP) through the API and the console sign-in, with a frozen clock: enrolment,
the code step after the password, replay, recovery codes, throttling, disabling, and a tenant
requiring it of its staff."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core import clock
from core.models import RecoveryCode, TenantAudit, TwoFactor
from hub.api.deps import SESSION_COOKIE
from tests.conftest import Member, TenantSet
from tests.hub.web.conftest import PASSWORD, csrf_of

ME = "/api/v1/me/two-factor/"
START = datetime(2026, 6, 1, 9, 0, 10, tzinfo=UTC)  # 10 s into a 30 s step


@pytest.fixture
def frozen() -> clock.FrozenClock:
    at = clock.FrozenClock(START)
    clock.set_clock(at)
    return at


@pytest.fixture
def fresh(app: Any) -> TestClient:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def code(secret: str, frozen: clock.FrozenClock, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(frozen.at.timestamp() + 30 * steps)


def enrol(member: Member, frozen: clock.FrozenClock) -> tuple[str, list[str]]:
    r = member.post(ME + "enrol")
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    assert r.json()["otpauth_uri"].startswith("otpauth://totp/")
    assert secret in r.json()["otpauth_uri"]
    r = member.post(ME + "confirm", json={"code": code(secret, frozen)})
    assert r.status_code == 200, r.text
    frozen.advance(seconds=30)  # the confirming code is spent; the next sign-in gets a new one
    return secret, r.json()["recovery_codes"]


def actions(hub: Any, tenant_id: Any) -> list[tuple[str, Any]]:
    with hub.read_session() as s:
        return [
            (r.action, r.details)
            for r in s.scalars(
                select(TenantAudit)
                .where(TenantAudit.tenant_id == tenant_id)
                .order_by(TenantAudit.id)
            )
        ]


def api_login(client: TestClient, member: Member) -> Any:
    return client.post("/api/v1/auth/login", json={"email": member.email, "password": PASSWORD})


def test_enrolment_needs_a_first_code_and_hands_out_ten_hashed_codes(
    org: TenantSet, frozen: clock.FrozenClock, hub: Any
) -> None:
    member = org.agent
    r = member.post(ME + "enrol")
    secret = r.json()["secret"]
    assert member.get(ME).json() == {
        "enabled": False,
        "pending": True,
        "recovery_codes_left": 0,
        "required": False,
    }
    wrong = member.post(ME + "confirm", json={"code": "000000"})
    assert wrong.status_code == 422 and not member.get(ME).json()["enabled"]
    r = member.post(ME + "confirm", json={"code": code(secret, frozen)})
    codes = r.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert member.get(ME).json()["enabled"] and member.get(ME).json()["recovery_codes_left"] == 10
    with hub.read_session() as s:
        stored = [c.code_hash for c in s.scalars(select(RecoveryCode))]
        row = s.get(TwoFactor, member.user_id)
        assert row is not None and secret not in row.secret_encrypted
    assert not set(codes) & set(stored) and len(stored) == 10
    assert member.post(ME + "enrol").status_code == 409  # on already
    assert ("two_factor.enabled", None) in actions(hub, member.tenant_id)


def test_api_sign_in_asks_for_the_code_and_refuses_replay(
    org: TenantSet, make_member: Any, frozen: clock.FrozenClock, fresh: TestClient, hub: Any
) -> None:
    agent = make_member(org.tenant, "agent", password=PASSWORD)
    secret, _ = enrol(agent, frozen)
    first = api_login(fresh, agent)
    assert first.status_code == 200 and first.json()["two_factor_required"] is True
    assert "user_id" not in first.json() and not fresh.cookies.get(SESSION_COOKIE)
    pending = first.json()["pending"]
    bad = fresh.post("/api/v1/auth/login/two-factor", json={"pending": pending, "code": "123456"})
    assert bad.status_code == 401 and not fresh.cookies.get(SESSION_COOKIE)
    good_code = code(secret, frozen)
    ok = fresh.post("/api/v1/auth/login/two-factor", json={"pending": pending, "code": good_code})
    assert ok.status_code == 200 and ok.json()["email"] == agent.email
    assert fresh.get("/api/v1/me").json()["email"] == agent.email
    # The same code once more, within its window: refused.
    fresh.cookies.clear()
    pending = api_login(fresh, agent).json()["pending"]
    again = fresh.post(
        "/api/v1/auth/login/two-factor", json={"pending": pending, "code": good_code}
    )
    assert again.status_code == 401
    # The previous step's code is still good once (clock drift), two steps back is not.
    frozen.advance(seconds=30)
    old = code(secret, frozen, steps=-2)
    assert (
        fresh.post(
            "/api/v1/auth/login/two-factor", json={"pending": pending, "code": old}
        ).status_code
        == 401
    )
    new = code(secret, frozen)
    assert (
        fresh.post(
            "/api/v1/auth/login/two-factor", json={"pending": pending, "code": new}
        ).status_code
        == 200
    )
    failed = [d for a, d in actions(hub, agent.tenant_id) if a == "two_factor.failed"]
    assert failed == [{"via": "api"}] * 3


def test_a_recovery_code_signs_in_once(
    org: TenantSet, make_member: Any, frozen: clock.FrozenClock, fresh: TestClient, hub: Any
) -> None:
    user = make_member(org.tenant, "end_user", password=PASSWORD)
    _, codes = enrol(user, frozen)
    pending = api_login(fresh, user).json()["pending"]
    body = {"pending": pending, "code": codes[3].upper()}  # case and the dash do not matter
    assert fresh.post("/api/v1/auth/login/two-factor", json=body).status_code == 200
    fresh.cookies.clear()
    pending = api_login(fresh, user).json()["pending"]
    assert (
        fresh.post(
            "/api/v1/auth/login/two-factor", json={"pending": pending, "code": codes[3]}
        ).status_code
        == 401
    )
    assert user.get(ME).json()["recovery_codes_left"] == 9
    used = [d for a, d in actions(hub, user.tenant_id) if a == "two_factor.recovery_code_used"]
    assert used == [{"left": 9}]


def test_codes_are_throttled_and_the_pending_token_expires(
    org: TenantSet, make_member: Any, frozen: clock.FrozenClock, fresh: TestClient
) -> None:
    user = make_member(org.tenant, "end_user", password=PASSWORD)
    secret, _ = enrol(user, frozen)
    pending = api_login(fresh, user).json()["pending"]
    for _ in range(5):
        r = fresh.post("/api/v1/auth/login/two-factor", json={"pending": pending, "code": "111111"})
        assert r.status_code == 401
    r = fresh.post(
        "/api/v1/auth/login/two-factor", json={"pending": pending, "code": code(secret, frozen)}
    )
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    forged = fresh.post("/api/v1/auth/login/two-factor", json={"pending": "x.y.z", "code": "1"})
    assert forged.status_code == 401


def test_disabling_needs_a_code_or_the_password(
    org: TenantSet, make_member: Any, frozen: clock.FrozenClock, fresh: TestClient, hub: Any
) -> None:
    user = make_member(org.tenant, "end_user", password=PASSWORD)
    secret, _ = enrol(user, frozen)
    assert user.post(ME + "disable", json={"code": "000000"}).status_code == 422
    assert user.post(ME + "disable", json={"password": "not the password"}).status_code == 422
    assert user.get(ME).json()["enabled"]
    r = user.post(ME + "disable", json={"password": PASSWORD})
    assert r.status_code == 200 and not user.get(ME).json()["enabled"]
    assert api_login(fresh, user).json()["email"] == user.email  # no code asked any more
    assert ("two_factor.disabled", None) in actions(hub, user.tenant_id)
    with hub.read_session() as s:
        assert s.scalar(select(RecoveryCode.id)) is None


def test_new_recovery_codes_replace_the_old(
    org: TenantSet, make_member: Any, frozen: clock.FrozenClock
) -> None:
    user = make_member(org.tenant, "end_user", password=PASSWORD)
    secret, old = enrol(user, frozen)
    r = user.post(ME + "recovery-codes", json={"code": code(secret, frozen)})
    assert r.status_code == 200 and len(r.json()["recovery_codes"]) == 10
    assert not set(old) & set(r.json()["recovery_codes"])
    frozen.advance(seconds=30)
    assert user.post(ME + "recovery-codes", json={"code": old[0]}).status_code == 422


def _console_password(client: TestClient, email: str) -> Any:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )


def _form(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, html[:800]
    return found.group(1)


def test_console_sign_in_asks_for_the_code_after_the_password(
    org: TenantSet,
    make_member: Any,
    frozen: clock.FrozenClock,
    fresh: TestClient,
    hub: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    agent = make_member(org.tenant, "agent", password=PASSWORD)
    secret, _ = enrol(agent, frozen)
    step = _console_password(fresh, agent.email)
    assert step.status_code == 200 and "Two-factor sign-in" in step.text
    assert not fresh.cookies.get(SESSION_COOKIE)
    data = {
        "pending": _form(step.text, "pending"),
        "csrf_token": _form(step.text, "csrf_token"),
        "next": "/queue",
    }
    wrong = fresh.post("/login/two-factor", data={**data, "code": "999999"}, follow_redirects=False)
    assert wrong.status_code == 401 and "not right" in wrong.text
    ok = fresh.post(
        "/login/two-factor", data={**data, "code": code(secret, frozen)}, follow_redirects=False
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/queue"
    assert fresh.get("/queue").status_code == 200
    assert ("two_factor.failed", {"via": "console"}) in actions(hub, agent.tenant_id)
    # A pending step too old is refused.
    fresh.cookies.clear()
    step = _console_password(fresh, agent.email)
    stale = {
        **data,
        "pending": _form(step.text, "pending"),
        "csrf_token": _form(step.text, "csrf_token"),
    }
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 301)  # the signed step's own clock
    late = fresh.post("/login/two-factor", data={**stale, "code": code(secret, frozen, 1)})
    monkeypatch.undo()
    assert late.status_code == 401 and "took too long" in late.text


def test_a_tenant_requiring_two_factor_sends_staff_to_enrol_first(
    org: TenantSet,
    make_member: Any,
    frozen: clock.FrozenClock,
    fresh: TestClient,
    app: Any,
    hub: Any,
) -> None:
    agent = make_member(org.tenant, "agent", password=PASSWORD)
    user = make_member(org.tenant, "end_user", password=PASSWORD)
    # The admin who turns it on needs it first.
    r = org.admin.client.put(
        "/api/v1/admin/two-factor/", json={"required_for_staff": True}, headers=org.admin.headers
    )
    assert r.status_code == 422 and "your own account first" in r.text
    enrol(org.admin, frozen)
    # The agent is signed in before the policy starts: that session ends with it.
    with TestClient(app, raise_server_exceptions=False) as before:
        assert api_login(before, agent).status_code == 200
        assert before.get("/api/v1/me").status_code == 200
        r = org.admin.client.put(
            "/api/v1/admin/two-factor/",
            json={"required_for_staff": True},
            headers=org.admin.headers,
        )
        assert r.status_code == 200 and r.json()["sessions_ended"] >= 1
        assert before.get("/api/v1/me").status_code == 401
    assert org.admin.get("/api/v1/admin/two-factor/").json()["required_for_staff"] is True
    # API sign-in: refused with the way out; end users are not concerned.
    refused = api_login(fresh, agent)
    assert refused.status_code == 403 and "set it up" in refused.json()["detail"]
    assert api_login(fresh, user).status_code == 200
    fresh.cookies.clear()
    # Console sign-in: the enrolment page, no session until a code confirms it.
    step = _console_password(fresh, agent.email)
    assert step.status_code == 200 and "Set up two-factor" in step.text
    assert not fresh.cookies.get(SESSION_COOKIE)
    secret = re.search(r'id="totp-secret" class="secret">([A-Z2-7]+)<', step.text)
    assert secret and "<svg" in step.text
    data = {"pending": _form(step.text, "pending"), "csrf_token": _form(step.text, "csrf_token")}
    bad = fresh.post("/login/two-factor/enrol", data={**data, "code": "000000"})
    assert bad.status_code == 422 and not fresh.cookies.get(SESSION_COOKIE)
    done = fresh.post(
        "/login/two-factor/enrol",
        data={**data, "code": code(secret.group(1), frozen)},
        follow_redirects=False,
    )
    assert done.status_code == 200 and "Save your recovery codes" in done.text
    assert len(re.findall(r"<li><code>", done.text)) == 10
    assert fresh.get("/api/v1/me").json()["email"] == agent.email
    # It cannot be turned off while required.
    r = fresh.post(
        ME + "disable",
        json={"password": PASSWORD},
        headers={"x-csrf-token": fresh.cookies.get("hub_csrf") or ""},
    )
    assert r.status_code == 403
    assert (
        "two_factor.policy_changed",
        {"required_for_staff": True, "sessions_ended": 1},
    ) in actions(hub, agent.tenant_id)


def test_the_operator_resets_a_locked_out_persons_two_factor(
    org: TenantSet,
    make_member: Any,
    frozen: clock.FrozenClock,
    fresh: TestClient,
    hub: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from hub.cli import app as cli

    monkeypatch.setenv("HUB_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("HUB_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HUB_SECRET_KEY", settings.secret_key)
    user = make_member(org.tenant, "end_user", password=PASSWORD)
    enrol(user, frozen)
    assert api_login(fresh, user).json()["two_factor_required"] is True
    result = CliRunner().invoke(cli, ["user", "reset-two-factor", "--email", user.email])
    assert result.exit_code == 0 and "two-factor is off" in result.output, result.output
    assert api_login(fresh, user).json()["email"] == user.email
    assert ("two_factor.disabled", {"by": "operator"}) in actions(hub, user.tenant_id)
    again = CliRunner().invoke(cli, ["user", "reset-two-factor", "--email", user.email])
    assert again.exit_code == 0 and "had no two-factor" in again.output


def test_turning_two_factor_on_ends_the_sessions_opened_without_it(
    org: TenantSet, make_member: Any, frozen: clock.FrozenClock, fresh: TestClient
) -> None:
    member = make_member(org.tenant, "agent", password=PASSWORD)
    assert api_login(fresh, member).status_code == 200
    assert fresh.get("/api/v1/me").status_code == 200
    enrol(member, frozen)  # through the API with the member's token: no session of its own
    assert fresh.get("/api/v1/me").status_code == 401
    assert member.get("/api/v1/me").status_code == 200  # tokens are not sessions
