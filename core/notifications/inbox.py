"""A person's in-app notifications: mark one read, mark all read, and their preference sheet
(the API and the console pages share these)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import NotFound
from core.models import Notification
from core.notifications import matrix, prefs
from core.permissions import ADMIN, AGENT, Actor
from core.services import live


def mark_read(session: Session, actor: Actor, notification_id: int) -> None:
    """Mark one of the actor's notifications read; another's (or another tenant's) is a 404."""
    row = session.get(Notification, notification_id)
    if row is None or row.tenant_id != actor.tenant_id or row.user_id != actor.user_id:
        raise NotFound(f"notification {notification_id} not found")
    if row.read_at is None:
        row.read_at = now()
        live.notified(session, actor.tenant_id, actor.user_id)


def mark_all_read(session: Session, actor: Actor) -> int:
    """Mark every unread notification of the actor read; how many were."""
    result = session.execute(
        update(Notification)
        .where(
            Notification.tenant_id == actor.tenant_id,
            Notification.user_id == actor.user_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=now())
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count and actor.user_id is not None:
        live.notified(session, actor.tenant_id, actor.user_id)
    return count


def sheet(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The actor's choices, one row per kind and channel offered to them, with the effective
    value and whether it is fixed on."""
    staff = actor.role in (AGENT, ADMIN)
    assert actor.user_id is not None
    mine = prefs.person_choices(session, actor.tenant_id, {actor.user_id}).get(actor.user_id, {})
    defaults = prefs.tenant_settings(session, actor.tenant_id).defaults
    rows = []
    for kind, chans in prefs.offered(staff):
        for channel in chans:
            fixed = prefs.locked(kind, channel, staff)
            k = prefs.key(kind, channel)
            on = True if fixed else bool(mine.get(k, defaults.get(k, True)))
            rows.append(
                {
                    "kind": kind,
                    "label": matrix.LABELS[kind],
                    "channel": channel,
                    "enabled": on,
                    "locked": fixed,
                }
            )
    return rows


def defaults_sheet(session: Session, actor: Actor) -> dict[str, Any]:
    """The tenant's settings as the admin page and API show them."""
    row = prefs.tenant_settings(session, actor.tenant_id)
    return {
        "unassigned": row.unassigned,
        "defaults": [
            {
                "kind": kind,
                "label": matrix.LABELS[kind],
                "channel": channel,
                "enabled": bool(row.defaults.get(prefs.key(kind, channel), True)),
            }
            for kind, chans in prefs.offered(True)
            for channel in chans
        ],
    }
