"""Password reset: the same answer for known and unknown addresses, the mailed link (system
relay), single use, 1 hour, other sessions and reset links ended, throttling with Retry-After."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.clock import FrozenClock, set_clock
from core.models import TenantAudit
from hub import ratelimit
from hub.ratelimit import LinkThrottle
from tests.hub.web.conftest import PASSWORD, csrf_of, sign_in
from tests.smtp_sink import Sink, system_relay

NEW = "a brand new passphrase 42"


@pytest.fixture
def relay(hub) -> Sink:  # type: ignore[no-untyped-def]
    with system_relay(hub.settings) as box:
        yield box  # type: ignore[misc]


def ask(app, email: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    browser = TestClient(app, raise_server_exceptions=False)
    form = browser.get("/password-reset")
    assert form.status_code == 200 and "Reset your password" in form.text
    r = browser.post("/password-reset", data={"email": email, "csrf_token": csrf_of(form.text)})
    return r.status_code, r.text.replace(email, "ADDRESS")


def choose(app, path: str, password: str) -> tuple[TestClient, object]:  # type: ignore[no-untyped-def]
    browser = TestClient(app, raise_server_exceptions=False)
    page = browser.get(path)
    assert page.status_code == 200, page.text[:300]
    r = browser.post(
        path, data={"password": password, "csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    return browser, r


def test_known_and_unknown_addresses_get_the_same_answer(app, web_org, relay) -> None:  # type: ignore[no-untyped-def]
    known = ask(app, web_org["agent"].email)
    unknown = ask(app, "nobody-here@example.com")
    assert known[0] == unknown[0] == 200
    assert known[1] == unknown[1] and "on its way" in known[1]
    # Only the real account got a mail.
    assert [m["To"] for m in relay.messages()] == [web_org["agent"].email]
    api_known = TestClient(app).post(
        "/api/v1/auth/password-reset/", json={"email": web_org["agent"].email}
    )
    api_unknown = TestClient(app).post(
        "/api/v1/auth/password-reset/", json={"email": "nobody-here@example.com"}
    )
    assert api_known.status_code == api_unknown.status_code == 202
    assert api_known.json() == api_unknown.json()
    assert len(relay.messages()) == 2


def test_the_link_works_once_and_ends_every_other_session(app, hub, web_org, relay) -> None:  # type: ignore[no-untyped-def]
    agent = web_org["agent"]
    other_session = sign_in(app, agent.email)
    ask(app, agent.email)
    ask(app, agent.email)
    first, second = relay.links("password-reset")
    # A refused password says why and does not use the link up.
    _, r = choose(app, second, "password")
    assert r.status_code == 422 and "at least 12 characters" in r.text  # type: ignore[attr-defined]
    browser, r = choose(app, second, NEW)
    assert r.status_code == 303  # type: ignore[attr-defined]
    assert browser.get("/", follow_redirects=True).url.path == "/queue"
    # The other session is signed out, the other reset link and this one are dead.
    assert other_session.client.get("/queue", follow_redirects=False).status_code == 303
    used = TestClient(app).get(second)
    assert used.status_code == 401 and "already used" in used.text
    assert TestClient(app).get(first).status_code == 401
    sign_in(app, agent.email, NEW)
    with pytest.raises(AssertionError):
        sign_in(app, agent.email, PASSWORD)
    with hub.session() as s:
        actions = list(
            s.scalars(select(TenantAudit.action).where(TenantAudit.tenant_id == agent.tenant_id))
        )
    assert actions.count("password.reset_requested") == 2 and "password.reset" in actions


def test_the_link_lasts_one_hour(app, web_org, relay) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(datetime.now(UTC))
    set_clock(clock)
    ask(app, web_org["end_user"].email)
    [path] = relay.links("password-reset")
    clock.advance(minutes=59)
    assert TestClient(app).get(path).status_code == 200
    clock.advance(minutes=2)
    r = TestClient(app).get(path)
    assert r.status_code == 401 and "expired" in r.text
    forged = TestClient(app).get("/password-reset/not-a-real-token")
    assert forged.status_code == 401 and "not valid" in forged.text


def test_api_confirm(app, web_org, relay) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    client.post("/api/v1/auth/password-reset/", json={"email": web_org["manager"].email})
    [path] = relay.links("password-reset")
    token = path.rsplit("/", 1)[1]
    url = "/api/v1/auth/password-reset/confirm/"
    weak = client.post(url, json={"token": token, "password": "short"})
    assert weak.status_code == 422 and "12 characters" in weak.text
    assert client.post(url, json={"token": token, "password": NEW}).json() == {"ok": True}
    again = client.post(url, json={"token": token, "password": NEW + "x"})
    assert again.status_code == 401 and "already used" in again.json()["detail"]
    forged = client.post(url, json={"token": "forged", "password": NEW})
    assert forged.status_code == 401


def test_reset_requests_are_throttled_and_recover(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    ratelimit.install(hub, LinkThrottle(per_address="2/2 seconds", per_ip="50/minute"))
    try:
        assert ask(app, web_org["agent"].email)[0] == 200
        assert ask(app, web_org["agent"].email)[0] == 200
        browser = TestClient(app, raise_server_exceptions=False)
        form = browser.get("/password-reset")
        r = browser.post(
            "/password-reset",
            data={"email": web_org["agent"].email, "csrf_token": csrf_of(form.text)},
        )
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert "Too many requests" in r.text
        # Another address is not affected; the API answers the same way.
        assert ask(app, web_org["admin"].email)[0] == 200
        api = TestClient(app).post(
            "/api/v1/auth/password-reset/", json={"email": web_org["agent"].email}
        )
        assert api.status_code == 429 and api.headers["Retry-After"]
        time.sleep(2.1)
        assert ask(app, web_org["agent"].email)[0] == 200
    finally:
        ratelimit.install(
            hub,
            LinkThrottle(
                per_address=hub.settings.link_requests_per_address,
                per_ip=hub.settings.link_requests_per_ip,
            ),
        )
