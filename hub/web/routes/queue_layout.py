"""The queue's layout: each person's row density (compact by default, kept per person and
tenant) and the number of tickets in each saved view (one query for all of them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import HubError
from core.permissions import Actor
from core.services.ticket_counts import CAP, count_matches
from core.services.tickets import TicketFilter
from hub.api.deps import SessionDep
from hub.web.i18n import N_
from hub.web.models import QueuePreference, SavedView
from hub.web.render import redirect
from hub.web.session import PostUser, readers_only

router = APIRouter()
DENSITIES = ("compact", "comfortable")


def density_of(session: Session, actor: Actor) -> str:
    """The person's queue density: "compact" unless they chose "comfortable"."""
    chosen = session.scalar(
        select(QueuePreference.density).where(
            QueuePreference.tenant_id == actor.tenant_id, QueuePreference.user_id == actor.user_id
        )
    )
    return chosen if chosen in DENSITIES else DENSITIES[0]


def view_counts(
    session: Session,
    actor: Actor,
    views: Sequence[SavedView],
    filter_of: Callable[[Session, Actor, str], TicketFilter],
) -> dict[int, str]:
    """Each saved view's ticket count as shown ("12", "99+"); a view whose query no longer
    parses gets none."""
    usable: list[tuple[int, TicketFilter]] = []
    for view in views:
        try:
            usable.append((view.id, filter_of(session, actor, view.query)))
        except HubError:
            continue
    counts = count_matches(session, actor, [flt for _, flt in usable])
    return {
        view_id: (f"{CAP}+" if n > CAP else str(n))
        for (view_id, _), n in zip(usable, counts, strict=True)
    }


@router.post("/queue/density", response_model=None)
def set_density(
    me: PostUser,
    session: SessionDep,
    density: Annotated[str, Form(pattern="^(compact|comfortable)$")],
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Keep the person's choice of compact or comfortable queue rows."""
    readers_only(me)
    row = session.scalar(
        select(QueuePreference).where(
            QueuePreference.tenant_id == me.actor.tenant_id,
            QueuePreference.user_id == me.actor.user_id,
        )
    )
    if row is None:
        row = QueuePreference(tenant_id=me.actor.tenant_id, user_id=me.actor.user_id)
        session.add(row)
    row.density = density
    row.updated_at = now()
    session.commit()
    to = "/queue" + ("?" + back if back and not back.startswith(("/", "?")) else "")
    said = N_("Rows are compact now.") if density == "compact" else N_("Rows are comfortable now.")
    return redirect(to, flash=said)
