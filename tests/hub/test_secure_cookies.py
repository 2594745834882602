"""Behind an https base URL every cookie the hub sets carries ``Secure``: the console's session
and CSRF cookies, the sign-in form's CSRF cookie, the one-time flash message, the API's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hub.app import create_app
from hub.context import Hub

PASSWORD = "correct horse battery staple"


@pytest.fixture
def https_client(settings) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The same database, but a hub whose base URL is https (and cookie_secure left unset)."""
    hub = Hub(settings.model_copy(update={"base_url": "https://hub.test", "cookie_secure": False}))
    with TestClient(
        create_app(hub), base_url="https://hub.test", raise_server_exceptions=False
    ) as c:
        yield c
    hub.engine.dispose()


def _cookies(response) -> list[str]:  # type: ignore[no-untyped-def]
    return response.headers.get_list("set-cookie")


def _secure(header: str) -> bool:
    return any(part.strip().lower() == "secure" for part in header.split(";")[1:])


def test_every_cookie_is_secure_behind_https(hub, make_tenant, make_member, https_client) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    member = make_member(tenant, "agent", password=PASSWORD)
    seen: list[str] = []
    # The API's sign-in: session and CSRF cookies.
    r = https_client.post("/api/v1/auth/login", json={"email": member.email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    seen += _cookies(r)
    https_client.cookies.clear()
    # The console: the sign-in form's CSRF cookie, then the session, then the flash of sign-out.
    r = https_client.get("/login")
    seen += _cookies(r)
    csrf = https_client.cookies.get("hub_login_csrf")
    assert csrf
    r = https_client.post(
        "/login",
        data={"email": member.email, "password": PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    seen += _cookies(r)
    session_csrf = https_client.cookies.get("hub_csrf")
    assert session_csrf
    r = https_client.post("/logout", data={"csrf_token": session_csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text
    seen += _cookies(r)
    names = {c.split("=", 1)[0] for c in seen}
    assert {"hub_session", "hub_csrf", "hub_login_csrf", "hub_flash"} <= names, names
    assert [c for c in seen if not _secure(c)] == []
