"""Live updates: the cheap "what changed" state of a user, and the server-sent events stream.

A stream sends the user's state once when it opens (four numbers the indexes answer without
scanning: the newest ticket id and the newest comment id the user may see, a counter of changes
to their tickets, and their unread notification count), then waits on the process's live bus
(``hub.live_bus``): committed changes are pushed to it, filtered from their payload by what the
user may see, and the stream sends the new state. It never polls; the only query a stream makes
after opening is its person's unread count when their notifications changed. The page compares
the state with what it was rendered with and refreshes only the parts that changed (htmx
triggers), so the server never pushes HTML. On a ticket page a staff stream also sends
``presence``: who else is viewing the ticket and who is typing.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import anyio
from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Comment, Notification, Ticket
from core.permissions import Actor
from hub.context import Hub
from hub.live_bus import bus_of

KEEP_ALIVE_SECONDS = 15.0  # a comment line now and then keeps proxies from closing the stream
PRESENCE_TICK_SECONDS = 2.0  # how often a ticket page's stream looks whether someone left
STREAM_SECONDS = 3600  # the browser reconnects by itself (spread by up to 10%)


def live_state(session: Session, actor: Actor) -> dict[str, int]:
    """``t``: newest visible ticket id, ``c``: newest visible comment id, ``u``: latest ticket
    change (epoch ms), ``n``: unread notifications. Each is one indexed aggregate."""
    tickets = select(func.max(Ticket.id)).where(Ticket.tenant_id == actor.tenant_id)
    comments = select(func.max(Comment.id)).where(Comment.tenant_id == actor.tenant_id)
    if not actor.reads_all_tickets:
        tickets = tickets.where(Ticket.created_by == actor.user_id)
        comments = comments.join(Ticket, Ticket.id == Comment.ticket_id).where(
            Ticket.tenant_id == actor.tenant_id, Ticket.created_by == actor.user_id
        )
    if not actor.sees_internal:
        comments = comments.where(Comment.is_internal.is_(False))
    updated = select(func.max(Ticket.updated_at)).where(Ticket.tenant_id == actor.tenant_id)
    if not actor.reads_all_tickets:
        updated = updated.where(Ticket.created_by == actor.user_id)
    unread = (
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.tenant_id == actor.tenant_id,
            Notification.user_id == actor.user_id,
            Notification.read_at.is_(None),
        )
    )
    # One round trip: the four aggregates as scalar subqueries of one SELECT.
    t, c, last_change, n = session.execute(
        select(
            tickets.scalar_subquery(),
            comments.scalar_subquery(),
            updated.scalar_subquery(),
            unread.scalar_subquery(),
        )
    ).one()
    if isinstance(last_change, str):  # SQLite hands a bare subquery's timestamp back as text
        last_change = datetime.fromisoformat(last_change)
    if last_change is not None and last_change.tzinfo is None:
        last_change = last_change.replace(tzinfo=UTC)
    return {
        "t": t or 0,
        "c": c or 0,
        "u": int(last_change.timestamp() * 1000) if last_change else 0,
        "n": n or 0,
    }


def _poll(hub: Hub, actor: Actor) -> dict[str, int]:
    # A read session: on SQLite it never takes the write lock, so reads never delay a writer.
    with hub.read_session() as session:
        return live_state(session, actor)


def unread_count(hub: Hub, actor: Actor) -> int:
    """The person's unread notifications (one indexed count)."""
    with hub.read_session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(
                    Notification.tenant_id == actor.tenant_id,
                    Notification.user_id == actor.user_id,
                    Notification.read_at.is_(None),
                )
            )
            or 0
        )


def apply(state: dict[str, int], facts: list[dict[str, Any]]) -> tuple[bool, bool]:
    """Fold pushed facts into a stream's state; (the unread count must be read, resync)."""
    count = resync = False
    for fact in facts:
        kind = fact.get("k")
        if kind == "t":
            state["t"] = max(state["t"], int(fact.get("ticket") or 0))
            state["u"] = max(state["u"] + 1, int(time.time() * 1000))
        elif kind == "u" or (kind == "c" and "comment" not in fact):
            state["u"] = max(state["u"] + 1, int(time.time() * 1000))
        elif kind == "c":
            state["c"] = max(state["c"], int(fact["comment"]))
            state["u"] = max(state["u"] + 1, int(time.time() * 1000))
        elif kind == "n":
            count = True
        elif kind == "r":
            resync = True
    return count, resync


def _sse(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _events(hub: Hub, actor: Actor, ticket: int | None) -> AsyncIterator[str]:
    bus = bus_of(hub)
    bus.start()
    if not bus.wait_ready(0):
        await anyio.to_thread.run_sync(bus.wait_ready, 5.0)
    sub = bus.subscribe(actor, ticket if actor.is_staff else None)
    try:
        loop = asyncio.get_running_loop()
        ends = loop.time() + STREAM_SECONDS * random.uniform(0.9, 1.0)
        yield "retry: 2000\n\n"
        state = await anyio.to_thread.run_sync(_poll, hub, actor)
        yield _sse("state", state)
        presence: dict[str, list[str]] | None = None
        tick = PRESENCE_TICK_SECONDS if sub.ticket is not None else KEEP_ALIVE_SECONDS
        quiet = 0.0
        while loop.time() < ends:
            if sub.ticket is not None:
                now_seen = bus.presence.snapshot(sub.tenant, sub.ticket, actor.user_id)
                if now_seen != presence:
                    presence = now_seen
                    yield _sse("presence", presence)
            try:
                facts = [await asyncio.wait_for(sub.queue.get(), timeout=tick)]
            except TimeoutError:
                quiet += tick
                if quiet >= KEEP_ALIVE_SECONDS:
                    quiet = 0.0
                    yield ": keep-alive\n\n"
                continue
            while not sub.queue.empty():  # everything that arrived together, in one message
                facts.append(sub.queue.get_nowait())
            count, resync = apply(state, facts)
            if resync:
                state = await anyio.to_thread.run_sync(_poll, hub, actor)
            elif count:
                state["n"] = await anyio.to_thread.run_sync(unread_count, hub, actor)
            if any(f.get("k") != "p" for f in facts):
                yield _sse("state", state)
    finally:
        bus.unsubscribe(sub)


def event_stream(
    request: Request, hub: Hub, actor: Actor, ticket: int | None = None
) -> StreamingResponse:
    """The SSE response for one signed-in user (on a ticket page: with its presence)."""
    return StreamingResponse(
        _events(hub, actor, ticket),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
