"""Shared fixtures: a migrated database (SQLite, or PostgreSQL with HUB_TEST_DATABASE=postgres),
one hub per session, tables emptied between tests, and factories for tenants, users and tokens."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from core import clock
from core.db import Base
from core.services import identity
from hub.app import create_app
from hub.context import Hub
from hub.migrate import upgrade
from hub.settings import Settings
from tests.services import require

# What the test hub's operator allow-list names: loopback, where every local fake listens.
FAKES_EGRESS_ALLOW = "127.0.0.0/8,::1/128"
PG_ADMIN_URL = os.environ.get(
    "HUB_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _pg_database() -> Iterator[str]:
    import psycopg

    name = f"hub_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        require(False, f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
        raise
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated database for this test session."""
    if os.environ.get("HUB_TEST_DATABASE", "sqlite") == "postgres":
        gen = _pg_database()
        url = next(gen)
        upgrade(url)
        yield url
        gen.close()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'hub.sqlite3'}"
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def settings(db_url: str, data_dir: Path) -> Settings:
    return Settings(
        database_url=db_url,
        data_dir=data_dir,
        secret_key="test-secret-key-0123456789",
        base_url="http://hub.test",
        attachment_max_bytes=1024 * 1024,
        # The local fake vendors (tests/plugins/*/fake_*.py) listen on loopback and
        # stand in for Slack's and Teams' own endpoints: the operator allows both.
        egress_allow=FAKES_EGRESS_ALLOW,
        egress_allow_vendor_override=True,
        _env_file=None,
    )  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def hub(settings: Settings) -> Hub:
    """One hub for the whole session, with every installed plugin loaded."""
    return Hub(settings)


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table after a test that used the database; restore the wall clock."""
    yield
    clock.set_clock(None)
    if "hub" not in request.fixturenames:
        return
    from hub.api import rate_limit

    rate_limit.reset_all()  # every test client calls from one address
    hub: Hub = request.getfixturevalue("hub")
    hub.tenant_hooks.invalidate()
    with hub.engine.begin() as conn:
        # Tables a model declares but no migration made yet are the parity test's business.
        existing = set(inspect(conn).get_table_names())
        tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in existing]
        if conn.dialect.name == "postgresql":
            conn.execute(
                text(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
                )
            )
        else:
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture(scope="session")
def app(hub: Hub):  # type: ignore[no-untyped-def]
    return create_app(hub)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@dataclass
class Member:
    """A user of a tenant with a bearer token, and a client that sends it."""

    tenant_id: uuid.UUID
    tenant_slug: str
    user_id: int
    email: str
    role: str
    token: str
    client: TestClient

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, url: str, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
        return self.client.get(url, headers=self.headers, **kw)

    def post(self, url: str, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
        return self.client.post(url, headers=self.headers, **kw)

    def patch(self, url: str, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
        return self.client.patch(url, headers=self.headers, **kw)

    def put(self, url: str, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
        return self.client.put(url, headers=self.headers, **kw)

    def delete(self, url: str, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
        return self.client.delete(url, headers=self.headers, **kw)


@pytest.fixture
def make_tenant(hub: Hub) -> Callable[..., tuple[uuid.UUID, str]]:
    def make(slug: str | None = None) -> tuple[uuid.UUID, str]:
        slug = slug or f"t-{uuid.uuid4().hex[:8]}"
        with hub.session() as s:
            tenant = identity.create_tenant(s, slug=slug, name=slug.title())
            return tenant.id, slug

    return make


@pytest.fixture
def make_member(hub: Hub, client: TestClient) -> Callable[..., Member]:
    def make(
        tenant: tuple[uuid.UUID, str],
        role: str = "end_user",
        email: str | None = None,
        password: str | None = None,
    ) -> Member:
        tenant_id, slug = tenant
        email = email or f"{role}-{uuid.uuid4().hex[:6]}@example.com"
        with hub.session() as s:
            user = identity.ensure_user(s, email=email, password=password)
            identity.ensure_member(s, tenant_id, user, role)
            token = identity.create_token(s, tenant_id, user)
            return Member(
                tenant_id=tenant_id,
                tenant_slug=slug,
                user_id=user.id,
                email=email,
                role=role,
                token=token,
                client=client,
            )

    return make


@dataclass
class TenantSet:
    tenant: tuple[uuid.UUID, str]
    end_user: Member
    agent: Member
    admin: Member
    manager: Member


@pytest.fixture
def org(make_tenant, make_member) -> TenantSet:  # type: ignore[no-untyped-def]
    """A tenant with one member of each role."""
    tenant = make_tenant()
    return TenantSet(
        tenant=tenant,
        **{r: make_member(tenant, r) for r in ("end_user", "agent", "admin", "manager")},
    )


@pytest.fixture
def other_org(make_tenant, make_member) -> TenantSet:  # type: ignore[no-untyped-def]
    """A second tenant, for isolation tests."""
    tenant = make_tenant()
    return TenantSet(
        tenant=tenant,
        **{r: make_member(tenant, r) for r in ("end_user", "agent", "admin", "manager")},
    )


def _private_clamd():  # type: ignore[no-untyped-def]
    from tests.private_clamd import PrivateClamd, clamd_binary

    binary = clamd_binary()
    require(binary is not None, "clamd is not installed (Debian package clamav-daemon)")
    assert binary is not None
    server = PrivateClamd(binary)
    server.start()
    return server


@pytest.fixture(scope="session")
def real_clamd() -> Iterator[Any]:
    """A real clamd (tests.private_clamd) for the session, with the tests' own signatures."""
    server = _private_clamd()
    yield server
    server.cleanup()


@pytest.fixture
def stoppable_clamd() -> Iterator[Any]:
    """A real clamd of this test's own, which the test may stop."""
    server = _private_clamd()
    yield server
    server.cleanup()
