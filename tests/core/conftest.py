"""Fixtures of the service-level tests: tickets opened through core, in a real session."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.permissions import system_actor
from core.services.tickets import create_ticket
from hub.context import Hub
from tests.conftest import TenantSet


@pytest.fixture
def open_ticket(hub: Hub) -> Callable[..., int]:
    """Open a ticket of ``org``'s end user (as the system); returns its id."""

    def open_(org: TenantSet, subject: str = "Printer on fire") -> int:
        with hub.session() as s:
            ticket = create_ticket(
                s,
                system_actor(org.tenant[0]),
                subject=subject,
                description="Help",
                category="Other",
                requester_id=org.end_user.user_id,
            )
            return ticket.id

    return open_
