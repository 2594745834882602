"""Insert-or-ignore, for work that must happen once however many workers race on it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from core.clock import now
from core.models import AutomationRun


def insert_ignore(
    session: Session, model: Any, rows: list[dict[str, Any]], conflict: list[str], returning: Any
) -> list[Any]:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING <returning>`` on SQLite and PostgreSQL.

    Returns the ``returning`` values of the rows actually inserted, so the caller knows which
    occasions it won.
    """
    if not rows:
        return []
    from sqlalchemy.dialects import postgresql, sqlite

    table = model.__table__
    stmt: Any
    if session.get_bind().dialect.name == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=conflict)
    else:
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict)
    column = table.c[returning.key]
    # Core executemany: one cached statement, batched by SQLAlchemy's "insertmanyvalues".
    result = session.connection().execute(stmt.returning(column), rows)
    return [value for (value,) in result]


def claim(session: Session, tenant_id: uuid.UUID, ticket_id: int | None, key: str) -> bool:
    """Record that occasion ``key`` was handled; False when someone already had."""
    won = insert_ignore(
        session,
        AutomationRun,
        [
            {
                "tenant_id": tenant_id,
                "ticket_id": ticket_id,
                "dedupe_key": key[:200],
                "created_at": now(),
            }
        ],
        ["dedupe_key"],
        AutomationRun.dedupe_key,
    )
    return bool(won)
