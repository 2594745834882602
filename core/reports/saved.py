"""Saved reports: a standard report and its query under a name, the owner's or the tenant's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import Conflict, Forbidden, Invalid, NotFound
from core.permissions import Actor
from core.reports import catalog
from core.reports.models import SavedReport
from core.services import audit

REPORT_SAVED, REPORT_SAVED_DELETED = "report.saved", "report.saved_deleted"


def _reader(actor: Actor) -> int:
    if not actor.reads_all_tickets or actor.user_id is None:
        raise Forbidden("saved reports are for agents, admins and managers")
    return actor.user_id


def list_saved(session: Session, actor: Actor) -> list[SavedReport]:
    """The actor's own saved reports and those shared with the tenant, by name."""
    user_id = _reader(actor)
    return list(
        session.scalars(
            select(SavedReport)
            .where(
                SavedReport.tenant_id == actor.tenant_id,
                or_(SavedReport.user_id == user_id, SavedReport.shared.is_(True)),
            )
            .order_by(SavedReport.name, SavedReport.id)
        )
    )


def save(
    session: Session, actor: Actor, *, name: str, report: str, query: dict[str, Any], shared: bool
) -> SavedReport:
    """Save a report under a name; its query is checked by running the report once."""
    user_id = _reader(actor)
    name = " ".join(name.split())
    if not name:
        raise Invalid("name must not be empty", field="name")
    if report not in catalog.REPORTS:
        raise Invalid(f"report must be one of: {', '.join(catalog.REPORTS)}", field="report")
    catalog.run(session, actor, report, query)
    row = SavedReport(
        tenant_id=actor.tenant_id,
        user_id=user_id,
        name=name,
        report=report,
        query=dict(query),
        shared=shared,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise Conflict(f"you already have a saved report named {name!r}") from exc
    audit.by_actor(
        session, actor, REPORT_SAVED, details={"id": row.id, "name": name, "report": report}
    )
    return row


def delete(session: Session, actor: Actor, saved_id: int) -> None:
    """Delete a saved report: its owner may, and an admin may delete a shared one."""
    user_id = _reader(actor)
    row = session.get(SavedReport, saved_id)
    if row is None or row.tenant_id != actor.tenant_id:
        raise NotFound("saved report not found")
    if row.user_id != user_id:
        if not row.shared:
            raise NotFound("saved report not found")
        if not actor.is_admin:
            raise Forbidden("only its owner or an admin deletes a shared report")
    audit.by_actor(
        session,
        actor,
        REPORT_SAVED_DELETED,
        details={"id": row.id, "name": row.name, "report": row.report},
    )
    session.delete(row)
