"""Tickets opened at the same moment share one transaction (hub.batching), and still each get
their own row, audit entry, outbox event and SLA clock; a bad one fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from core.errors import Invalid
from core.models import Audit, OutboxEvent, SlaState, Ticket
from core.services import events
from hub.context import Hub
from tests.conftest import TenantSet

TICKETS = "/api/v1/support/tickets/"


def body(n: int, subject: str | None = None) -> dict[str, str]:
    return {
        "subject": subject or f"Printer {n} is on fire",
        "description": "Smoke everywhere.",
        "category": "Technical Issue",
        "priority": "High",
    }


async def post_all(app: Any, token: str, bodies: list[dict[str, str]]) -> list[httpx.Response]:
    """All requests at once, in one event loop, as concurrent clients would send them."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://hub.test",
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        return list(await asyncio.gather(*(client.post(TICKETS, json=b) for b in bodies)))


@pytest.fixture
def poison() -> Iterator[None]:
    """A creation listener that refuses one subject, the way a failing write would."""

    def refuse(session: Any, ticket: Ticket) -> None:
        if ticket.subject == "poison":
            raise Invalid("this subject is refused by the test listener", field="subject")

    events.add_creation_listener(refuse)
    yield
    events._creation_listeners.remove(refuse)


def test_concurrent_creates_share_transactions_and_each_is_complete(
    app: Any, hub: Hub, org: TenantSet
) -> None:
    n = 24
    writer = app.state.ticket_writer
    batches_before, items_before = writer.batches, writer.items
    responses = asyncio.run(post_all(app, org.agent.token, [body(i) for i in range(n)]))
    assert [r.status_code for r in responses] == [201] * n, [r.text for r in responses]
    ids = [r.json()["id"] for r in responses]
    assert len(set(ids)) == n
    assert [r.json()["subject"] for r in responses] == [f"Printer {i} is on fire" for i in range(n)]
    assert writer.items - items_before == n
    assert writer.batches - batches_before < n, "no two requests shared a transaction"
    with hub.read_session() as s:
        audits = s.scalar(
            select(func.count())
            .select_from(Audit)
            .where(Audit.ticket_id.in_(ids), Audit.action == "Ticket Created")
        )
        created = s.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.ticket_id.in_(ids), OutboxEvent.event_type == events.TICKET_CREATED)
        )
        clocks = s.scalar(
            select(func.count()).select_from(SlaState).where(SlaState.ticket_id.in_(ids))
        )
        due = s.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.id.in_(ids), Ticket.sla_due_at.is_not(None))
        )
    assert (audits, created, clocks, due) == (n, n, n, n)


def test_a_failing_ticket_fails_alone(app: Any, hub: Hub, org: TenantSet, poison: None) -> None:
    bodies = [body(i) for i in range(10)]
    bodies[4] = body(4, subject="poison")
    responses = asyncio.run(post_all(app, org.agent.token, bodies))
    codes = [r.status_code for r in responses]
    assert codes == [201] * 4 + [422] + [201] * 5, [r.text for r in responses]
    assert "refused by the test listener" in responses[4].json()["detail"]
    ids = [r.json()["id"] for i, r in enumerate(responses) if i != 4]
    with hub.read_session() as s:
        stored = s.scalars(select(Ticket.subject).where(Ticket.tenant_id == org.tenant[0])).all()
    assert sorted(stored) == sorted(b["subject"] for i, b in enumerate(bodies) if i != 4)
    assert len(set(ids)) == 9


def test_invalid_ticket_is_refused_before_any_write(app: Any, org: TenantSet) -> None:
    writer = app.state.ticket_writer
    before = writer.items
    r = org.end_user.post(TICKETS, json={**body(1), "subject": "   "})
    assert r.status_code == 422
    assert "subject" in r.json()["detail"]
    assert writer.items == before
