"""In-app notification rows: the one writer (the matrix's deliveries and automation rules)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from core.clock import now
from core.models import Notification, NotificationDelivery
from core.services import live
from core.services.once import insert_ignore

MAX_TEXT = 2000


def add(
    session: Session,
    tenant_id: uuid.UUID,
    user_id: int,
    ticket_id: int | None,
    kind: str,
    text: str,
) -> None:
    """One unread notification for a person."""
    session.add(
        Notification(
            tenant_id=tenant_id,
            user_id=user_id,
            ticket_id=ticket_id,
            kind=kind[:40],
            text=text[:MAX_TEXT],
            created_at=now(),
        )
    )
    live.notified(session, tenant_id, user_id)


def claim(
    session: Session, tenant_id: uuid.UUID, event_id: int, user_id: int, channel: str, kind: str
) -> bool:
    """Record that (event, person, channel) was delivered; False when it already was."""
    won = insert_ignore(
        session,
        NotificationDelivery,
        [
            {
                "tenant_id": tenant_id,
                "event_id": event_id,
                "user_id": user_id,
                "channel": channel,
                "kind": kind,
                "created_at": now(),
            }
        ],
        ["event_id", "user_id", "channel"],
        NotificationDelivery.id,
    )
    return bool(won)


def delivered(session: Session, event_id: int) -> set[tuple[int, str]]:
    """The (person, channel) pairs already delivered for an event."""
    from sqlalchemy import select

    rows = session.execute(
        select(NotificationDelivery.user_id, NotificationDelivery.channel).where(
            NotificationDelivery.event_id == event_id
        )
    ).all()
    return {(int(u), str(c)) for u, c in rows}
