"""How many tickets match each of several filters (the queue's saved views), in one query.

Each count stops at ``cap`` + 1 rows (shown as "99+": a queue view is for work at hand, and a
count that stops early costs the same with a million tickets as with a hundred): one scalar subquery per filter, all in one SELECT.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Ticket
from core.permissions import Actor
from core.services.tickets import TicketFilter, ticket_query

CAP = 99


def count_matches(
    session: Session, actor: Actor, filters: list[TicketFilter], *, cap: int = CAP
) -> list[int]:
    """The number of tickets the actor may see that match each filter, at most ``cap`` + 1."""
    if not filters:
        return []
    counts = [
        select(func.count())
        .select_from(
            ticket_query(actor, flt).with_only_columns(Ticket.id).limit(cap + 1).subquery()
        )
        .scalar_subquery()
        for flt in filters
    ]
    return [int(n) for n in session.execute(select(*counts)).one()]
