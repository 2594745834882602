"""Web console fixtures: signed-in browser-like clients, and a real uvicorn server for Playwright."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi.testclient import TestClient

from hub import builtins as hub_builtins
from hub.app import create_app
from hub.context import Hub
from hub.plugins import make_plugin_manager
from tests.hub.web.demo_plugin import DemoPlugin
from tests.services import free_port, port_open

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery staple"


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@dataclass
class WebClient:
    """A cookie-keeping client signed in to the console as one member."""

    client: TestClient
    email: str
    csrf: str = ""

    def page(self, url: str) -> str:
        response = self.client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.text[:500])
        self.csrf = csrf_of(response.text) if "csrf_token" in response.text else self.csrf
        return response.text

    def post(self, url: str, data: dict[str, object] | None = None, **kw):  # type: ignore[no-untyped-def]
        body = {"csrf_token": self.csrf, **(data or {})}
        return self.client.post(url, data=body, follow_redirects=False, **kw)


def sign_in(app, email: str, password: str = PASSWORD, tenant: str | None = None) -> WebClient:  # type: ignore[no-untyped-def]
    """Sign in through the form, as a browser would (login CSRF cookie included)."""
    client = TestClient(app, raise_server_exceptions=False)
    page = client.get("/login")
    token = csrf_of(page.text)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    if tenant is not None:
        pending = re.search(r'name="pending" value="([^"]+)"', response.text)
        assert pending, response.text[:500]
        response = client.post(
            "/login/tenant",
            data={"pending": pending.group(1), "tenant": tenant, "csrf_token": token},
            follow_redirects=False,
        )
    assert response.status_code == 303, response.text[:500]
    web = WebClient(client=client, email=email)
    web.page("/notifications")
    return web


@pytest.fixture
def web_org(make_tenant, make_member):  # type: ignore[no-untyped-def]
    """A tenant with one member of each role, each with a password for the sign-in form."""
    tenant = make_tenant()
    return {
        role: make_member(tenant, role, password=PASSWORD)
        for role in ("end_user", "agent", "admin", "manager")
    }


@pytest.fixture
def signed_in(app) -> Callable[..., WebClient]:  # type: ignore[no-untyped-def]
    return lambda member, **kw: sign_in(app, member.email, **kw)


@pytest.fixture(scope="session")
def web_hub(hub: Hub, settings) -> Hub:  # type: ignore[no-untyped-def]
    """A hub sharing the test database, with the demo plugin installed beside the real ones."""
    pm = make_plugin_manager(extra=[*hub_builtins.plugins(), ("webdemo", DemoPlugin())])
    return Hub(settings, pm=pm, engine=hub.engine)


@pytest.fixture(scope="session")
def web_app(web_hub: Hub):  # type: ignore[no-untyped-def]
    return create_app(web_hub)


@pytest.fixture(scope="session")
def live_server(web_app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The console behind a real uvicorn server on a free port, in a thread."""
    port = free_port()
    config = uvicorn.Config(
        web_app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=1,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not port_open("127.0.0.1", port):
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _forget_failed_sign_ins() -> Iterator[None]:
    """Every test client signs in from the same address: failures must not outlive a test."""
    yield
    from hub import ratelimit

    ratelimit.reset_all()
