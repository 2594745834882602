"""Merge a ticket into another and apply one change to many tickets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.errors import Conflict, HubError, Invalid
from core.models import ExternalRef, Ticket
from core.permissions import Actor, require_staff
from core.services import events
from core.services.comments import add_comment
from core.services.tickets import Changes, get_ticket, set_status, update_ticket


def resolve_merged(session: Session, ticket: Ticket, *, max_hops: int = 10) -> Ticket:
    """Follow merged_into links to the ticket that now carries the conversation."""
    hops = 0
    while ticket.merged_into_id is not None and hops < max_hops:
        nxt = session.get(Ticket, ticket.merged_into_id)
        if nxt is None or nxt.tenant_id != ticket.tenant_id:
            break
        ticket, hops = nxt, hops + 1
    return ticket


def merge_ticket(session: Session, actor: Actor, source_id: int, target_id: int) -> Ticket:
    """Close ``source`` with a link to ``target``; its thread stays readable from the target."""
    source = get_ticket(session, actor, source_id, for_update=True)
    require_staff(actor, "merge tickets")
    if source_id == target_id:
        raise Invalid("a ticket cannot be merged into itself", field="target_id")
    target = get_ticket(session, actor, target_id, for_update=True)
    if source.merged_into_id is not None:
        raise Conflict(f"ticket {source_id} is already merged into #{source.merged_into_id}")
    if resolve_merged(session, target).id == source.id:
        raise Conflict("merging would make a loop")
    if target.merged_into_id is not None:
        raise Invalid(
            f"ticket {target_id} is itself merged; merge into #{target.merged_into_id}",
            field="target_id",
        )
    source.merged_into_id = target.id
    # Replies to the old thread (email Message-IDs, chat threads) now land on the target.
    session.execute(
        update(ExternalRef)
        .where(ExternalRef.ticket_id == source.id, ExternalRef.tenant_id == actor.tenant_id)
        .values(ticket_id=target.id)
    )
    if source.status != "Closed":
        set_status(session, actor, source, "Closed", reason=f"merged into #{target.id}")
    events.audit(
        session,
        actor,
        action="Merged",
        ticket_id=source.id,
        old=None,
        new=str(target.id),
        details={"into": target.id},
    )
    events.audit(
        session,
        actor,
        action="Merged In",
        ticket_id=target.id,
        old=None,
        new=str(source.id),
        details={"from": source.id},
    )
    add_comment(
        session,
        actor,
        target,
        is_internal=True,
        comment=f"Ticket #{source.id} ({source.subject}) was merged into this ticket.",
        author_id=actor.user_id or target.created_by,
    )
    events.emit(
        session,
        actor,
        events.TICKET_MERGED,
        tenant_id=actor.tenant_id,
        ticket_id=source.id,
        payload={"into": target.id},
    )
    return target


def merged_sources(session: Session, actor: Actor, target: Ticket) -> list[Ticket]:
    """Tickets merged into ``target`` that this actor may see (as ``get_ticket`` decides), for
    reading their threads from it: an end user never sees another requester's merged thread."""
    stmt = select(Ticket).where(
        Ticket.tenant_id == actor.tenant_id, Ticket.merged_into_id == target.id
    )
    if not actor.reads_all_tickets:
        stmt = stmt.where(Ticket.created_by == actor.user_id)
    return list(session.scalars(stmt.order_by(Ticket.id)))


def bulk_update(
    session: Session, actor: Actor, ids: list[int], changes: Changes
) -> list[dict[str, Any]]:
    """Apply one change to many tickets; each ticket succeeds or fails on its own."""
    require_staff(actor, "run bulk actions")
    if not ids:
        raise Invalid("ids must not be empty", field="ids")
    if len(ids) > 500:
        raise Invalid("at most 500 tickets per bulk action", field="ids")
    tickets = {
        t.id: t
        for t in session.scalars(
            select(Ticket).where(Ticket.tenant_id == actor.tenant_id, Ticket.id.in_(ids))
        )
    }
    results: list[dict[str, Any]] = []
    for ticket_id in dict.fromkeys(ids):
        ticket = tickets.get(ticket_id)
        if ticket is None:
            results.append({"id": ticket_id, "ok": False, "error": "not found"})
            continue
        try:
            with session.begin_nested():
                changed = update_ticket(session, actor, ticket, changes)
            results.append({"id": ticket_id, "ok": True, "changes": changed})
        except HubError as exc:
            results.append({"id": ticket_id, "ok": False, "error": exc.message})
    return results
