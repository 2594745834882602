"""Fixtures for hub tests: a hub with the recording test plugin installed beside the real ones."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from hub.app import create_app
from hub.builtins import plugins as builtin_plugins
from hub.context import Hub
from hub.plugins import make_plugin_manager
from tests.conftest import Member
from tests.hub.recorder_plugin import Recorder
from tests.services import port_open, require


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def rhub(hub: Hub, settings, recorder: Recorder) -> Hub:  # type: ignore[no-untyped-def]
    """A hub sharing the test database, with the recorder installed beside the real plugins."""
    pm = make_plugin_manager(extra=[*builtin_plugins(), ("recorder", recorder)])
    return Hub(settings, pm=pm, engine=hub.engine)


@pytest.fixture
def rclient(rhub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(rhub), raise_server_exceptions=False) as c:
        yield c


def as_client(member: Member, client: TestClient) -> Member:
    """The same member, talking to another app."""
    return Member(**{**member.__dict__, "client": client})


@pytest.fixture
def broker_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    """HUB_TEST_BROKER (CI: the local Redis) or the embedded SQLAlchemy-on-SQLite transport."""
    url = os.environ.get("HUB_TEST_BROKER") or f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    if url.startswith("redis://"):
        host_port = url.split("//", 1)[1].split("/", 1)[0]
        host, _, port = host_port.partition(":")
        require(port_open(host, int(port or 6379)), f"Redis not reachable at {host_port}")
    return url


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Wait on a real worker's effect (bounded): it runs in other threads."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(autouse=True)
def _forget_failed_sign_ins() -> Iterator[None]:
    """Every test client signs in from the same address: one test's failures (the OpenAPI fuzz
    sends many) must not throttle the next test's sign-ins."""
    yield
    from hub import ratelimit

    ratelimit.reset_all()


@pytest.fixture(scope="session")
def oidc_provider(settings):  # type: ignore[no-untyped-def]
    """The real node-oidc-provider on 127.0.0.1, its client's redirect URI the test hub's."""
    from tests.oidc import start_real_provider, stop

    provider = start_real_provider(settings.base_url.rstrip("/") + "/login/sso/callback")
    yield provider
    stop(provider)


@pytest.fixture
def minting_provider():  # type: ignore[no-untyped-def]
    """A hand-made provider whose token endpoint serves the ID token a test shapes."""
    from tests.oidc import start_minting_provider

    yield from start_minting_provider()
