"""Names for the groups of a report grouped by a person, an agent group or an organisation:
each row keeps its ``group`` key (an id, or ``none``) and gains a ``label`` a reader can use
(one query for the whole report, whatever the number of rows)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import AgentGroup, Organisation, User

NONE_LABELS = {
    "agent": "Unassigned",
    "agent_group": "No group",
    "organisation": "In no organisation",
    "requester": "Nobody",
}


def label_rows(
    session: Session, tenant_id: uuid.UUID, group: str | None, rows: list[dict[str, Any]]
) -> None:
    """Set ``label`` on each row when the report is grouped by agent, requester, agent group or
    organisation (another tenant's ids never resolve: they are not in this report)."""
    if group not in NONE_LABELS:
        return
    ids = sorted({int(r["group"]) for r in rows if str(r["group"]).isdigit()})
    names: dict[int, str] = {}
    if ids:
        if group in ("agent", "requester"):
            stmt: Any = select(
                User.id, func.coalesce(func.nullif(User.full_name, ""), User.email)
            ).where(User.id.in_(ids))
        elif group == "agent_group":
            stmt = select(AgentGroup.id, AgentGroup.name).where(
                AgentGroup.tenant_id == tenant_id, AgentGroup.id.in_(ids)
            )
        else:
            stmt = select(Organisation.id, Organisation.name).where(
                Organisation.tenant_id == tenant_id, Organisation.id.in_(ids)
            )
        names = {int(i): str(n) for i, n in session.execute(stmt)}
    for row in rows:
        key = str(row["group"])
        if key == "none":
            row["label"] = NONE_LABELS[group]
        else:
            row["label"] = names.get(int(key), f"#{key}") if key.isdigit() else key
