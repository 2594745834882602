"""Fixtures for hub tests: a hub with the recording test plugin installed beside the real ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hub.app import create_app
from hub.builtins import plugins as builtin_plugins
from hub.context import Hub
from hub.plugins import make_plugin_manager
from tests.conftest import Member
from tests.hub.recorder_plugin import Recorder


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
