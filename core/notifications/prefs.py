"""Who wants what: a person's on/off per kind and channel, over the tenant's defaults.

A choice is keyed ``"kind:channel"``. The effective value is, in order: on when the matrix makes
it mandatory; the person's own choice; the tenant's default (never for the requester's mail
about their own ticket: only the requester silences that); on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Invalid
from core.models import NotificationPreference, NotificationSettings
from core.models.notifications import UNASSIGNED_CHOICES
from core.notifications import matrix
from core.services.once import insert_ignore


def key(kind: str, channel: str) -> str:
    """The key of one choice."""
    return f"{kind}:{channel}"


def tenant_settings(session: Session, tenant_id: uuid.UUID) -> NotificationSettings:
    """The tenant's notification settings; defaults (unsaved) when it never set any."""
    row = session.get(NotificationSettings, tenant_id)
    return row or NotificationSettings(tenant_id=tenant_id, unassigned="all_agents", defaults={})


def person_choices(
    session: Session, tenant_id: uuid.UUID, user_ids: Iterable[int]
) -> dict[int, dict[str, Any]]:
    """The saved choices of these people, by user id (one query)."""
    ids = set(user_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(NotificationPreference.user_id, NotificationPreference.choices).where(
            NotificationPreference.tenant_id == tenant_id,
            NotificationPreference.user_id.in_(ids),
        )
    ).all()
    return {uid: dict(choices or {}) for uid, choices in rows}


def wanted(
    kind: str,
    channel: str,
    recipient: str,
    mine: Mapping[str, Any],
    defaults: Mapping[str, Any],
) -> bool:
    """Whether a person gets this notice, given their choices and the tenant's defaults."""
    if (kind, recipient, channel) in matrix.MANDATORY:
        return True
    k = key(kind, channel)
    if k in mine:
        return bool(mine[k])
    if recipient == matrix.REQUESTER and channel == matrix.EMAIL:
        return True  # an admin's default never silences a requester's mail about their ticket
    return bool(defaults.get(k, True))


def offered(is_staff: bool) -> list[tuple[str, list[str]]]:
    """The (kind, channels) a person of this sort can choose about: end users never see the
    staff-only kinds; chat DMs are for staff (end users are not linked in Slack or Teams)."""
    out = []
    for kind in matrix.KINDS:
        if not is_staff and kind in matrix.STAFF_ONLY:
            continue
        chans = set().union(*matrix.MATRIX[kind].values())
        if not is_staff:
            ends = [r for r in matrix.MATRIX[kind] if r in matrix.END_USER_RECIPIENTS]
            chans = set().union(*(matrix.MATRIX[kind][r] for r in ends)) - {matrix.CHAT}
        out.append((kind, [c for c in matrix.CHANNELS if c in chans]))
    return [(k, c) for k, c in out if c]


def locked(kind: str, channel: str, is_staff: bool) -> bool:
    """Whether this choice is fixed on for this person (shown, not editable)."""
    return not is_staff and (kind, matrix.REQUESTER, channel) in matrix.MANDATORY


def _checked(choices: Mapping[str, Any]) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for k, value in choices.items():
        kind, _, channel = str(k).partition(":")
        if kind not in matrix.KINDS or channel not in matrix.CHANNELS:
            raise Invalid(f"unknown notification {k!r}: use kind:channel", field="choices")
        if not isinstance(value, bool):
            raise Invalid(f"{k} must be true or false", field="choices")
        out[key(kind, channel)] = value
    return out


def save_person(
    session: Session, tenant_id: uuid.UUID, user_id: int, choices: Mapping[str, Any]
) -> dict[str, bool]:
    """Replace a person's choices (only their own: the caller passes the signed-in person)."""
    clean = _checked(choices)
    for k in list(clean):
        kind, _, channel = k.partition(":")
        if (kind, matrix.REQUESTER, channel) in matrix.MANDATORY:
            clean.pop(k)  # cannot be turned off: not stored, so never shown as off
    insert_ignore(
        session,
        NotificationPreference,
        [{"tenant_id": tenant_id, "user_id": user_id, "choices": {}, "updated_at": now()}],
        ["tenant_id", "user_id"],
        NotificationPreference.id,
    )
    row = session.scalar(
        select(NotificationPreference).where(
            NotificationPreference.tenant_id == tenant_id,
            NotificationPreference.user_id == user_id,
        )
    )
    assert row is not None
    row.choices, row.updated_at = clean, now()
    return clean


def save_tenant(
    session: Session, tenant_id: uuid.UUID, *, unassigned: str, defaults: Mapping[str, Any]
) -> NotificationSettings:
    """Replace a tenant's notification settings (admins)."""
    if unassigned not in UNASSIGNED_CHOICES:
        raise Invalid(
            f"unassigned must be one of {', '.join(UNASSIGNED_CHOICES)}", field="unassigned"
        )
    clean = _checked(defaults)
    # Insert-or-ignore first: two admins saving at once never collide on the primary key.
    insert_ignore(
        session,
        NotificationSettings,
        [{"tenant_id": tenant_id, "unassigned": unassigned, "defaults": {}, "updated_at": now()}],
        ["tenant_id"],
        NotificationSettings.tenant_id,
    )
    row = session.get(NotificationSettings, tenant_id, populate_existing=True)
    assert row is not None
    row.unassigned, row.defaults, row.updated_at = unassigned, clean, now()
    return row
