"""Pages run a fixed number of queries, however many rows they show (no N+1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from core.models import User
from core.services import identity
from core.services.comments import add_comment
from core.services.tickets import create_ticket, get_ticket
from tests.hub.web.conftest import sign_in


@contextmanager
def counting(hub) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """Statements sent on the hub's engines (GET pages use the read engine)."""
    seen: list[str] = []
    engines = {id(e): e for e in (hub.engine, hub.read_engine)}.values()

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA")):
            seen.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


def _fill(hub, member, n: int, start: int) -> int:  # type: ignore[no-untyped-def]
    """n tickets from n different requesters, each with a comment; returns the last id."""
    last = 0
    with hub.session() as s:
        for i in range(start, start + n):
            user = identity.ensure_user(s, email=f"req{i}@example.com")
            identity.ensure_member(s, member.tenant_id, user, "end_user")
            actor = identity.actor_for(s, member.tenant_id, user)
            ticket = create_ticket(s, actor, subject=f"T{i}", description="d", category="Other")
            add_comment(s, actor, ticket, comment=f"more {i}")
            last = ticket.id
    return last


def _queries(hub, web, url: str) -> int:  # type: ignore[no-untyped-def]
    with counting(hub) as seen:
        web.page(url)
    return len(seen)


def test_queue_and_ticket_pages_do_not_grow_with_rows(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    agent = sign_in(app, web_org["agent"].email)
    tid = _fill(hub, web_org["agent"], 3, 0)
    agent.page(f"/tickets/{tid}")  # warm the per-tenant plugin cache
    small_queue = _queries(hub, agent, "/queue")
    small_ticket = _queries(hub, agent, f"/tickets/{tid}")
    _fill(hub, web_org["agent"], 20, 100)
    with hub.session() as s:
        actor = identity.actor_for(
            s, web_org["agent"].tenant_id, s.get(User, web_org["agent"].user_id)
        )
        ticket = get_ticket(s, actor, tid)
        for i in range(15):
            add_comment(s, actor, ticket, comment=f"reply {i}", is_internal=bool(i % 2))
    assert _queries(hub, agent, "/queue") == small_queue
    assert _queries(hub, agent, f"/tickets/{tid}") == small_ticket
    print(f"queries: queue page {small_queue}, ticket page {small_ticket}")
    assert small_queue <= 12 and small_ticket <= 20, (small_queue, small_ticket)
