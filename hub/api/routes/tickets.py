"""Tickets: create, list, detail, update, bulk, merge, audit, escalate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from core.automation import escalation
from core.errors import HubError, Invalid
from core.models import Audit, ExternalRef, Ticket
from core.permissions import Actor, require_staff
from core.services import identity
from core.services.attachments import list_attachments
from core.services.comments import visible_comments
from core.services.merge import bulk_update, merge_ticket, merged_sources
from core.services.tickets import (
    UNSET,
    Changes,
    TicketFilter,
    create_ticket,
    create_tickets,
    get_ticket,
    list_tickets,
    ticket_values,
    update_ticket,
)
from core.services.versions import if_match_holds, ticket_etag
from hub.api.deps import ActorDep, HubDep, ObjectId, SessionDep
from hub.api.schemas.attachments import AttachmentPublic
from hub.api.schemas.comments import CommentPublic
from hub.api.schemas.common import UtcDateTime
from hub.api.schemas.escalation import EscalationResult, EscalationTargetPublic
from hub.api.schemas.tickets import (
    AuditPublic,
    EscalationCreate,
    ExternalRefPublic,
    MergedTicketPublic,
    TicketBulk,
    TicketBulkResult,
    TicketCreate,
    TicketDetailPublic,
    TicketMerge,
    TicketPage,
    TicketPublic,
    TicketUpdate,
)
from hub.batching import GroupCommit
from hub.context import Hub

router = APIRouter(prefix="/api/v1/support/tickets", tags=["tickets"])


@router.post("/", status_code=201, response_model=TicketPublic)
async def create(
    body: TicketCreate, actor: ActorDep, hub: HubDep, request: Request, response: Response
) -> Ticket:
    """Open a ticket (spec 12.1): the caller is the requester unless staff name another.

    Tickets opened at the same moment are written in one transaction (``hub.batching``); the
    answer comes after the commit either way.
    """
    fields = {
        "subject": body.subject,
        "description": body.description,
        "category": body.category,
        "priority": body.priority,
        "channel": "api",
    }
    if body.requester_email:
        require_staff(actor, "open tickets for someone else")
        ticket = await run_in_threadpool(_create_for, hub, actor, body.requester_email, fields)
    else:
        values = ticket_values(actor, **fields)  # a 4xx is decided here, never in a batch
        writer: GroupCommit[tuple[Actor, dict[str, Any]], Ticket] = request.app.state.ticket_writer
        ticket = await writer.submit((actor, values))
    response.headers["Location"] = f"/api/v1/support/tickets/{ticket.id}/"
    return ticket


def write_tickets(session: Session, items: Sequence[tuple[Actor, dict[str, Any]]]) -> list[Ticket]:
    """The group-commit writer of ``create``: every waiting request's ticket in one flush."""
    return create_tickets(session, [(actor, Ticket(**values)) for actor, values in items])


def _create_for(hub: Hub, actor: Actor, email: str, fields: dict[str, Any]) -> Ticket:
    with hub.session() as session:
        user = identity.ensure_user(session, email=email)
        if identity.membership(session, actor.tenant_id, user.id) is None:
            identity.ensure_member(session, actor.tenant_id, user, "end_user")
        ticket = create_ticket(session, actor, requester_id=user.id, **fields)
    hub.kick()
    return ticket


@router.get("/", response_model=TicketPage)
def list_(
    actor: ActorDep,
    session: SessionDep,
    status: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI query lists
    priority: Annotated[list[str], Query()] = [],  # noqa: B006
    category: Annotated[list[str], Query()] = [],  # noqa: B006
    assigned_to: Annotated[str | None, Query(description="a user id, 'me' or 'none'")] = None,
    created_by: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    sla_breached: bool | None = None,
    created_after: UtcDateTime | None = None,
    created_before: UtcDateTime | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: str = "-created_at",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> TicketPage:
    """Tickets the caller may see (end users: their own), filtered, by cursor."""
    flt = TicketFilter(
        status=status,
        priority=priority,
        category=category,
        created_by=created_by,
        sla_breached=sla_breached,
        created_after=_aware(created_after, "created_after"),
        created_before=_aware(created_before, "created_before"),
        q=q or None,
    )
    if assigned_to == "me":
        flt.assigned_to = actor.user_id
    elif assigned_to == "none":
        flt.unassigned = True
    elif assigned_to:
        if not assigned_to.isdigit() or int(assigned_to) > 2_147_483_647:
            raise Invalid("assigned_to must be a user id, 'me' or 'none'", field="assigned_to")
        flt.assigned_to = int(assigned_to)
    rows, next_cursor = list_tickets(session, actor, flt, sort=sort, limit=limit, cursor=cursor)
    return TicketPage(
        results=[TicketPublic.model_validate(t) for t in rows], next_cursor=next_cursor
    )


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise Invalid(f"{name} needs a time zone (e.g. 2026-01-01T00:00:00Z)", field=name)
    return value


@router.post("/bulk/", response_model=TicketBulkResult)
def bulk(body: TicketBulk, actor: ActorDep, session: SessionDep, hub: HubDep) -> TicketBulkResult:
    """Assign, close, or change priority or status of many tickets in one request."""
    changes = Changes()
    if body.action == "assign":
        changes.assigned_to = body.assigned_to
    elif body.action == "close":
        changes.status = "Closed"
    elif body.action == "set_priority":
        if body.priority is None:
            raise Invalid("priority is required for set_priority", field="priority")
        changes.priority = body.priority
    else:
        if body.status is None:
            raise Invalid("status is required for set_status", field="status")
        changes.status = body.status
    results = bulk_update(session, actor, body.ids, changes)
    session.commit()
    hub.kick()
    return TicketBulkResult(results=results)


class PreconditionFailed(HubError):
    """``If-Match`` names a version of the ticket that is no longer the current one."""

    status = 412
    code = "precondition_failed"


@router.get("/{ticket_id}/", response_model=TicketDetailPublic)
def detail(
    ticket_id: ObjectId, actor: ActorDep, session: SessionDep, response: Response
) -> TicketDetailPublic:
    """A ticket with its visible thread, attachments, external references and merged tickets.

    The ``ETag`` header names this version of the ticket: send it back as ``If-Match`` on a
    PATCH so that a change someone made in between is not overwritten unseen."""
    ticket = get_ticket(session, actor, ticket_id)
    response.headers["ETag"] = ticket_etag(ticket)
    comments = [CommentPublic.model_validate(c) for c in visible_comments(session, actor, ticket)]
    attachments = [_attachment(a) for a in list_attachments(session, actor, ticket)]
    refs = [
        ExternalRefPublic.model_validate(r)
        for r in session.scalars(
            select(ExternalRef)
            .where(
                ExternalRef.ticket_id == ticket.id,
                ExternalRef.tenant_id == actor.tenant_id,
                ExternalRef.kind != "participant",
            )
            .order_by(ExternalRef.id)
        )
    ]
    merged = [
        MergedTicketPublic(
            id=m.id,
            subject=m.subject,
            comments=[CommentPublic.model_validate(c) for c in visible_comments(session, actor, m)],
        )
        for m in merged_sources(session, actor, ticket)
    ]
    base = TicketPublic.model_validate(ticket).model_dump()
    return TicketDetailPublic(
        **base, comments=comments, attachments=attachments, external_refs=refs, merged_from=merged
    )


def _attachment(a: object) -> AttachmentPublic:
    out = AttachmentPublic.model_validate(a)
    if not out.held:
        out.download_url = f"/api/v1/support/tickets/{out.ticket_id}/attachments/{out.id}/"
    return out


@router.patch(
    "/{ticket_id}/",
    response_model=TicketPublic,
    responses={412: {"description": "If-Match names an older version of the ticket"}},
)
def patch(
    ticket_id: ObjectId,
    body: TicketUpdate,
    actor: ActorDep,
    session: SessionDep,
    hub: HubDep,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=2000)] = None,
) -> Ticket:
    """Change status, priority, category, assignment (staff) or reopen and rate (requester).

    With ``If-Match`` (the ``ETag`` of a GET), the change applies only to that version of the
    ticket, else 412; the row is locked while this is checked. Without it, the last writer wins.
    """
    ticket = get_ticket(session, actor, ticket_id, for_update=True)
    if if_match is not None and not if_match_holds(if_match, ticket_etag(ticket)):
        raise PreconditionFailed(
            "the ticket was changed since you read it (If-Match does not "
            "match its current ETag); read it again and retry",
            field="If-Match",
        )
    sent = body.model_fields_set
    changes = Changes()
    for name in ("status", "priority", "category", "satisfaction_rating", "feedback"):
        if name in sent:
            value = getattr(body, name)
            if value is None and name not in ("feedback",):
                raise Invalid(f"{name} must not be null", field=name)
            setattr(changes, name, value)
    if body.unassign:
        changes.assigned_to = None
    elif "assigned_to" in sent:
        changes.assigned_to = body.assigned_to
    if all(
        getattr(changes, f) is UNSET
        for f in (
            "status",
            "priority",
            "category",
            "assigned_to",
            "satisfaction_rating",
            "feedback",
        )
    ):
        raise Invalid("nothing to change")
    update_ticket(session, actor, ticket, changes)
    session.commit()
    hub.kick()
    response.headers["ETag"] = ticket_etag(ticket)
    return ticket


@router.post("/{ticket_id}/merge/", response_model=TicketPublic)
def merge(
    ticket_id: ObjectId, body: TicketMerge, actor: ActorDep, session: SessionDep, hub: HubDep
) -> Ticket:
    """Merge this ticket into ``target_id``: it is closed and its thread shows on the target."""
    target = merge_ticket(session, actor, ticket_id, body.target_id)
    session.commit()
    hub.kick()
    return target


@router.get("/{ticket_id}/audit/", response_model=list[AuditPublic])
def audit(
    ticket_id: ObjectId,
    actor: ActorDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[Audit]:
    """The ticket's audit trail, oldest first (agents and admins)."""
    ticket = get_ticket(session, actor, ticket_id)
    require_staff(actor, "read the audit trail")
    return list(
        session.scalars(
            select(Audit)
            .where(Audit.ticket_id == ticket.id, Audit.tenant_id == actor.tenant_id)
            .order_by(Audit.id)
            .limit(limit)
        )
    )


@router.post("/{ticket_id}/escalate/", status_code=202, response_model=EscalationResult)
def escalate(
    ticket_id: ObjectId, body: EscalationCreate, actor: ActorDep, session: SessionDep, hub: HubDep
) -> dict[str, object]:
    """Escalate to a target an enabled plugin offers (``jira``, ``pagerduty``, ``admin``)."""
    row = escalation.request_escalation(
        session, hub, actor, ticket_id, target=body.target, note=body.note
    )
    session.commit()
    hub.kick()
    return {"ticket_id": ticket_id, "target": body.target, "event_id": row.id, "status": "queued"}


@router.get("/{ticket_id}/escalation-targets/", response_model=list[EscalationTargetPublic])
def escalation_targets(
    ticket_id: ObjectId, actor: ActorDep, session: SessionDep, hub: HubDep
) -> list[dict[str, str]]:
    """Escalation actions the tenant's enabled plugins offer for this ticket."""
    return escalation.offered_targets(session, hub, actor, ticket_id)
