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
from core.fields import extras
from core.fields import service as field_service
from core.models import Audit, ExternalRef, Ticket
from core.organisations.people import requester_for
from core.permissions import Actor, require_staff
from core.search import Match
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
    search_matches,
    ticket_values,
    update_ticket,
)
from core.services.versions import if_match_holds, ticket_etag
from core.sla import countdown as sla_countdown
from core.tags.service import bulk_tag
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
    SearchMatch,
    TicketBulk,
    TicketBulkResult,
    TicketCreate,
    TicketDetailPublic,
    TicketListItem,
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
    slow_path = bool(body.requester_email or body.tags or body.custom_fields)
    if not slow_path:
        slow_path = await run_in_threadpool(_has_fields, hub, actor)
    if slow_path:
        if body.requester_email:
            require_staff(actor, "open tickets for someone else")
        ticket = await run_in_threadpool(
            _create_for,
            hub,
            actor,
            body.requester_email,
            fields,
            list(body.tags),
            dict(body.custom_fields),
        )
    else:
        values = ticket_values(actor, **fields)  # a 4xx is decided here, never in a batch
        writer: GroupCommit[tuple[Actor, dict[str, Any]], Ticket] = request.app.state.ticket_writer
        ticket = await writer.submit((actor, values))
    response.headers["Location"] = f"/api/v1/support/tickets/{ticket.id}/"
    return ticket


def write_tickets(session: Session, items: Sequence[tuple[Actor, dict[str, Any]]]) -> list[Ticket]:
    """The group-commit writer of ``create``: every waiting request's ticket in one flush."""
    return create_tickets(session, [(actor, Ticket(**values)) for actor, values in items])


def _has_fields(hub: Hub, actor: Actor) -> bool:
    """Whether the tenant has active custom fields (cached): a ticket then takes the path that
    checks them (required ones, per category) in its own transaction."""
    with hub.session() as session:
        return bool(field_service.definitions(session, actor.tenant_id))


def _create_for(
    hub: Hub,
    actor: Actor,
    email: str | None,
    fields: dict[str, Any],
    tags: list[str] | None = None,
    values: dict[str, Any] | None = None,
) -> Ticket:
    ticket_values(actor, **fields)  # a 4xx before any write
    with hub.session() as session:
        store = extras.for_new_ticket(
            session, actor, category=fields["category"], tag_names=tags, values=values
        )
        if email:
            fields = {**fields, "requester_id": requester_for(session, actor, email)}
        ticket = create_ticket(session, actor, before_events=store, **fields)
        public = _publics(session, [ticket])[0]
    hub.kick()
    return public


def _publics(
    session: Session,
    tickets: Sequence[Ticket],
    model: type[TicketPublic] = TicketPublic,
) -> list[Any]:
    """Tickets as the API shows them, their tags and custom field values loaded in one query
    each for the whole page."""
    tags, values = extras.page_extras(session, [t.id for t in tickets])
    out = []
    for t in tickets:
        public = model.model_validate(t)
        public.tags = tags.get(t.id, [])
        public.custom_fields = values.get(t.id, {})
        out.append(public)
    return out


@router.get("/", response_model=TicketPage)
def list_(
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    status: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI query lists
    priority: Annotated[list[str], Query()] = [],  # noqa: B006
    category: Annotated[list[str], Query()] = [],  # noqa: B006
    assigned_to: Annotated[str | None, Query(description="a user id, 'me' or 'none'")] = None,
    group: Annotated[str | None, Query(description="an agent group id or 'none'")] = None,
    created_by: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    organisation: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="requesters of this organisation")
    ] = None,
    sla_breached: bool | None = None,
    sla_at_risk: Annotated[
        bool, Query(description="only tickets whose SLA target is at risk (not yet due)")
    ] = False,
    created_after: UtcDateTime | None = None,
    created_before: UtcDateTime | None = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description='full-text search: words (all must match), "a phrase", prefix*',
        ),
    ] = None,
    tag: Annotated[
        list[str], Query(max_length=100, description="repeatable: every tag named must be on it")
    ] = [],  # noqa: B006
    sort: Annotated[
        str,
        Query(description="-created_at, created_at, ±updated_at, ±sla_due_at; relevance with q"),
    ] = "-created_at",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> TicketPage:
    """Tickets the caller may see (end users: their own), filtered, by cursor.

    ``?tag=vip&tag=billing`` keeps tickets that carry both tags; ``?field.<key>=<value>`` keeps
    those whose custom field ``<key>`` has that value (a multi-select: holds it; a checkbox:
    ``true``/``false``). Each ticket lists its ``tags`` and ``custom_fields``."""
    field_filters = {
        k.removeprefix("field."): v[:200]
        for k, v in request.query_params.items()
        if k.startswith("field.")
    }
    if field_filters:
        field_service.check_filter_keys(session, actor.tenant_id, field_filters)
    flt = TicketFilter(
        tags=[t for t in tag if t.strip()],
        fields=field_filters,
        status=status,
        priority=priority,
        category=category,
        created_by=created_by,
        organisation=organisation,
        sla_breached=sla_breached,
        created_after=_aware(created_after, "created_after"),
        created_before=_aware(created_before, "created_before"),
        q=q or None,
    )
    if sla_at_risk:
        flt.conditions.append(sla_countdown.at_risk_clause(session, actor.tenant_id))
    if assigned_to == "me":
        flt.assigned_to = actor.user_id
    elif assigned_to == "none":
        flt.unassigned = True
    elif assigned_to:
        if not assigned_to.isdigit() or int(assigned_to) > 2_147_483_647:
            raise Invalid("assigned_to must be a user id, 'me' or 'none'", field="assigned_to")
        flt.assigned_to = int(assigned_to)
    if group == "none":
        flt.no_group = True
    elif group:
        if not group.isdigit() or int(group) > 2_147_483_647:
            raise Invalid("group must be an agent group id or 'none'", field="group")
        flt.group_ids = [int(group)]
    rows, next_cursor = list_tickets(session, actor, flt, sort=sort, limit=limit, cursor=cursor)
    found = search_matches(session, actor, flt.q, rows)
    items = _publics(session, rows, TicketListItem)
    return TicketPage(
        results=[_with_match(item, found.get(item.id)) for item in items],
        next_cursor=next_cursor,
    )


def _with_match(item: TicketListItem, match: Match | None) -> TicketListItem:
    if match is not None:
        item.match = SearchMatch(
            where=match.where,  # type: ignore[arg-type]
            number=match.number,
            comment_id=match.comment_id,
            snippet=match.snippet,
        )
    return item


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise Invalid(f"{name} needs a time zone (e.g. 2026-01-01T00:00:00Z)", field=name)
    return value


@router.post("/bulk/", response_model=TicketBulkResult)
def bulk(body: TicketBulk, actor: ActorDep, session: SessionDep, hub: HubDep) -> TicketBulkResult:
    """Assign, close, move to an agent group, change priority or status, or add or remove a
    tag (``tag``) of many tickets in one request."""
    changes = Changes()
    if body.action in ("add_tag", "remove_tag"):
        if not body.tag:
            raise Invalid(f"tag is required for {body.action}", field="tag")
        results = bulk_tag(session, actor, body.ids, body.tag, remove=body.action == "remove_tag")
        session.commit()
        hub.kick()
        return TicketBulkResult(results=results)
    if body.action == "assign":
        changes.assigned_to = body.assigned_to
    elif body.action == "set_group":
        changes.group_id = body.group_id
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
    base = _publics(session, [ticket])[0].model_dump()
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
    if "group_id" in sent:
        changes.group_id = body.group_id
    extra = bool(body.add_tags or body.remove_tags or body.custom_fields)
    if not extra and all(
        getattr(changes, f) is UNSET
        for f in (
            "status",
            "priority",
            "category",
            "assigned_to",
            "group_id",
            "satisfaction_rating",
            "feedback",
        )
    ):
        raise Invalid("nothing to change")
    update_ticket(session, actor, ticket, changes)
    if extra:
        extras.change(
            session,
            actor,
            ticket,
            add=body.add_tags,
            remove=body.remove_tags,
            values=body.custom_fields,
        )
    session.commit()
    hub.kick()
    response.headers["ETag"] = ticket_etag(ticket)
    return _publics(session, [ticket])[0]


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
