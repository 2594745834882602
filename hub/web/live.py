"""Live updates: the cheap "what changed" state of a user, and the server-sent events stream.

The stream polls the database about once a second for four numbers the indexes answer without
scanning: the newest ticket id and the newest comment id the user may see, the latest change to
their tickets, and their unread notification count. The page compares them with what it was rendered with and refreshes only the
parts that changed (htmx triggers), so the server never pushes HTML.
"""

from __future__ import annotations

import asyncio
import json
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

POLL_SECONDS = 1.0
STREAM_SECONDS = 300  # the browser reconnects by itself; a bounded stream frees the worker


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
    # A read session: on SQLite it never takes the write lock, so polls never delay a writer.
    with hub.read_session() as session:
        return live_state(session, actor)


async def _events(request: Request, hub: Hub, actor: Actor) -> AsyncIterator[str]:
    last: dict[str, Any] | None = None
    loop = asyncio.get_running_loop()
    ends = loop.time() + STREAM_SECONDS
    yield "retry: 2000\n\n"
    while loop.time() < ends:
        if await request.is_disconnected():
            return
        state = await anyio.to_thread.run_sync(_poll, hub, actor)
        if state != last:
            last = state
            yield f"event: state\ndata: {json.dumps(state)}\n\n"
        else:
            yield ": keep-alive\n\n"
        await asyncio.sleep(POLL_SECONDS)


def event_stream(request: Request, hub: Hub, actor: Actor) -> StreamingResponse:
    """The SSE response for one signed-in user."""
    return StreamingResponse(
        _events(request, hub, actor),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
