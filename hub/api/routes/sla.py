"""SLA policies (admins create and edit them) and a ticket's SLA state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from core import sla
from core.calendar import BusinessCalendar
from core.clock import now
from core.errors import Conflict, Forbidden, NotFound
from core.lifecycle import PRIORITIES
from core.models import SlaPolicy
from core.permissions import Actor, require_admin
from core.services import events
from core.services.tickets import get_ticket
from hub.api.deps import ActorDep, ObjectId, SessionDep
from hub.api.schemas import Category, Priority

router = APIRouter(prefix="/api/v1/support", tags=["slas"])


class SlaPolicyOut(BaseModel):
    """A stored policy, or a default row (``id`` null, ``is_default`` true)."""

    model_config = ConfigDict(from_attributes=True)

    id: int | None
    category: str | None
    priority: str
    response_minutes: int
    resolution_minutes: int
    calendar: dict[str, Any] | None
    warning_percent: int = sla.DEFAULT_WARNING_PERCENT
    is_active: bool = True
    is_default: bool = False


class SlaPolicyCreate(BaseModel):
    """``calendar`` null is 24x7."""

    model_config = ConfigDict(extra="forbid")

    category: Category | None = None
    priority: Priority
    response_minutes: int = Field(gt=0, le=525_600)
    resolution_minutes: int = Field(gt=0, le=5_256_000)
    calendar: dict[str, Any] | None = None
    warning_percent: int = Field(default=sla.DEFAULT_WARNING_PERCENT, ge=1, le=99)
    is_active: bool = True


class SlaPolicyUpdate(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    category: Category | None = None
    priority: Priority | None = None
    response_minutes: int | None = Field(default=None, gt=0, le=525_600)
    resolution_minutes: int | None = Field(default=None, gt=0, le=5_256_000)
    calendar: dict[str, Any] | None = None
    warning_percent: int | None = Field(default=None, ge=1, le=99)
    is_active: bool | None = None


def _readers_only(actor: Actor) -> None:
    if not actor.reads_all_tickets:
        raise Forbidden("SLA policies are for agents, admins and managers")


@router.get("/slas/", response_model=list[SlaPolicyOut])
def list_slas(actor: ActorDep, session: SessionDep) -> list[SlaPolicyOut]:
    """The tenant's SLA policies; defaults per priority where the tenant has none."""
    _readers_only(actor)
    rows = list(
        session.scalars(
            select(SlaPolicy).where(SlaPolicy.tenant_id == actor.tenant_id).order_by(SlaPolicy.id)
        )
    )
    out = [SlaPolicyOut.model_validate(r) for r in rows]
    covered = {r.priority for r in rows if r.category is None}
    for priority in PRIORITIES:
        if priority not in covered:
            response, resolution = sla.DEFAULT_TARGETS[priority]
            out.append(
                SlaPolicyOut(
                    id=None,
                    category=None,
                    priority=priority,
                    response_minutes=response,
                    resolution_minutes=resolution,
                    calendar=None,
                    is_default=True,
                )
            )
    return out


def _policy(session: SessionDep, actor: Actor, policy_id: int) -> SlaPolicy:
    row = session.scalar(
        select(SlaPolicy).where(SlaPolicy.id == policy_id, SlaPolicy.tenant_id == actor.tenant_id)
    )
    if row is None:
        raise NotFound(f"SLA policy {policy_id} not found")
    return row


def _clash(
    session: SessionDep,
    actor: Actor,
    category: str | None,
    priority: str,
    exclude: int | None = None,
) -> None:
    stmt = select(SlaPolicy.id).where(
        SlaPolicy.tenant_id == actor.tenant_id, SlaPolicy.priority == priority
    )
    stmt = stmt.where(
        SlaPolicy.category.is_(None) if category is None else SlaPolicy.category == category
    )
    found = session.scalar(stmt)
    if found is not None and found != exclude:
        raise Conflict(
            f"a policy for {category or 'every category'} / {priority} exists "
            f"(id {found}); edit it instead"
        )


def _check_targets(response: int, resolution: int) -> None:
    from core.errors import Invalid

    if resolution < response:
        raise Invalid(
            "resolution_minutes must not be shorter than response_minutes",
            field="resolution_minutes",
        )


def _audit(session: SessionDep, actor: Actor, action: str, row: SlaPolicy) -> None:
    events.audit(
        session,
        actor,
        action=action,
        ticket_id=None,
        new=str(row.id),
        details={
            "category": row.category,
            "priority": row.priority,
            "response_minutes": row.response_minutes,
            "resolution_minutes": row.resolution_minutes,
            "calendar": row.calendar,
            "is_active": row.is_active,
        },
    )


@router.post("/slas/", status_code=201, response_model=SlaPolicyOut)
def create_sla(body: SlaPolicyCreate, actor: ActorDep, session: SessionDep) -> SlaPolicyOut:
    """Create a policy for a priority (and optionally a category); open tickets are re-timed."""
    require_admin(actor, "edit SLA policies")
    BusinessCalendar.parse(body.calendar)
    _check_targets(body.response_minutes, body.resolution_minutes)
    _clash(session, actor, body.category, body.priority)
    at = now()
    row = SlaPolicy(tenant_id=actor.tenant_id, created_at=at, updated_at=at, **body.model_dump())
    session.add(row)
    session.flush()
    _audit(session, actor, "SLA Policy Created", row)
    sla.recompute_for_policy(session, actor.tenant_id, row.priority, row.category)
    return SlaPolicyOut.model_validate(row)


@router.patch("/slas/{policy_id}/", response_model=SlaPolicyOut)
def update_sla(
    policy_id: ObjectId, body: SlaPolicyUpdate, actor: ActorDep, session: SessionDep
) -> SlaPolicyOut:
    """Change a policy; tickets it covered and now covers are re-timed at once."""
    require_admin(actor, "edit SLA policies")
    row = _policy(session, actor, policy_id)
    changes = body.model_dump(exclude_unset=True)
    for name in (
        "priority",
        "response_minutes",
        "resolution_minutes",
        "warning_percent",
        "is_active",
    ):
        if name in changes and changes[name] is None:
            from core.errors import Invalid

            raise Invalid(f"{name} cannot be null", field=name)
    if "calendar" in changes:
        BusinessCalendar.parse(changes["calendar"])
    before = (row.priority, row.category)
    after = (changes.get("priority", row.priority), changes.get("category", row.category))
    if after != before:
        _clash(session, actor, after[1], after[0], exclude=row.id)
    _check_targets(
        changes.get("response_minutes", row.response_minutes),
        changes.get("resolution_minutes", row.resolution_minutes),
    )
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = now()
    session.flush()
    _audit(session, actor, "SLA Policy Changed", row)
    for priority, category in {before, after}:
        sla.recompute_for_policy(session, actor.tenant_id, priority, category)
    return SlaPolicyOut.model_validate(row)


@router.delete("/slas/{policy_id}/", status_code=204)
def delete_sla(policy_id: ObjectId, actor: ActorDep, session: SessionDep) -> Response:
    """Remove a policy; its tickets fall back to the next policy or the default."""
    require_admin(actor, "edit SLA policies")
    row = _policy(session, actor, policy_id)
    scope = (row.priority, row.category)
    _audit(session, actor, "SLA Policy Deleted", row)
    session.delete(row)
    session.flush()
    sla.recompute_for_policy(session, actor.tenant_id, *scope)
    return Response(status_code=204)


class TargetOut(BaseModel):
    """One target of the current cycle."""

    minutes: int
    met_at: datetime | None
    warn_at: datetime | None
    due_at: datetime | None
    warned: bool
    breached: bool


class SlaLogOut(BaseModel):
    """A ``support_sla_logs`` row."""

    id: int
    event: str
    target: str | None
    event_time: datetime
    details: str | None


class TicketSlaOut(BaseModel):
    """A ticket's SLA clock and log."""

    ticket_id: int
    policy_id: int | None
    calendar: str
    warning_percent: int
    cycle: int
    cycle_started_at: datetime
    paused: bool
    paused_since: datetime | None
    paused_minutes: float
    elapsed_minutes: float
    sla_due_at: datetime | None
    breached: bool
    targets: dict[str, TargetOut]
    log: list[SlaLogOut]


@router.get("/tickets/{ticket_id}/sla/", response_model=TicketSlaOut)
def ticket_sla(ticket_id: ObjectId, actor: ActorDep, session: SessionDep) -> dict[str, Any]:
    """A ticket's SLA state (targets, due moments, paused, breached) and its SLA log."""
    ticket = get_ticket(session, actor, ticket_id)
    _readers_only(actor)
    return sla.describe(session, ticket)
