"""Rows the console's tests plant directly: a held attachment, a failed outbox event."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import update

from core.clock import now
from core.models import Attachment, OutboxEvent
from hub.context import Hub

T = "/api/v1/support/tickets/"
NEW = {"subject": "Router logs", "description": "attached", "category": "Other"}


def held_file(
    hub: Hub, member: Any, name: str = "report.txt", tid: int | None = None
) -> tuple[int, int]:
    """A ticket with an attachment held as quarantined (as an infected verdict leaves it)."""
    tid = tid or member.post(T, json=NEW).json()["id"]
    r = member.post(
        f"{T}{tid}/attachment/", files={"file": (name, io.BytesIO(b"bytes"), "text/plain")}
    )
    assert r.status_code == 201, r.text
    with hub.session() as s:
        s.execute(
            update(Attachment)
            .where(Attachment.id == r.json()["id"])
            .values(held="infected", scan_status="infected", scan_signature="Hub.Test.Sig")
        )
    return tid, int(r.json()["id"])


def failed_event(hub, tenant_id, error="relay said 554 no") -> int:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        row = OutboxEvent(
            tenant_id=tenant_id,
            ticket_id=None,
            event_type="ticket.created",
            payload={},
            status="failed",
            attempts=8,
            next_attempt_at=now(),
            done_plugins={},
            last_error=error,
            created_at=now(),
        )
        s.add(row)
        s.flush()
        return row.id
