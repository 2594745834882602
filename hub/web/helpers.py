"""Small read helpers the pages share; each is one query, so pages stay free of N+1 queries."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Membership, User
from core.permissions import ADMIN, AGENT

MAX_UPLOAD_FILES = 5


def user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Display names of the given users, in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.full_name, User.email).where(User.id.in_(wanted)))
    return {r[0]: r[1] or r[2] for r in rows}


def staff_members(session: Session, tenant_id: uuid.UUID) -> list[tuple[int, str]]:
    """(user id, name) of the tenant's agents and admins, for assignment pickers."""
    rows = session.execute(
        select(User.id, User.full_name, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.tenant_id == tenant_id,
            Membership.role.in_((AGENT, ADMIN)),
            Membership.deactivated_at.is_(None),
            User.is_active.is_(True),
        )
        .order_by(User.full_name, User.id)
    )
    return [(r[0], r[1] or r[2]) for r in rows]


def read_uploads(files: Sequence[object] | None, limit: int) -> list[tuple[str, bytes]]:
    """(name, bytes) of the non-empty uploaded files; reads at most ``limit + 1`` bytes each,
    so the size check in the attachment service sees an oversized file without buffering it all."""
    out: list[tuple[str, bytes]] = []
    for upload in files or []:
        name = getattr(upload, "filename", "") or ""
        fh = getattr(upload, "file", None)
        if fh is None or not name:
            continue  # an empty file input sends a nameless part
        data = fh.read(limit + 1)
        if data:
            out.append((name, data))
    return out
