"""One-click ratings from the resolution mail: a link per score, signed (HMAC under the hub's
signing key) for one ticket, its requester and one score, expiring. Opening it records the
rating through the ticket service as the requester (idempotent: the same link again changes
nothing) and offers the optional feedback text; no password.

A tenant chooses the scale (tenant setting ``rating_scale``: ``stars``, 1 to 5, the default; or
``thumbs``: up records 5, down records 1)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Invalid, NotFound
from core.lifecycle import DONE_STATUSES
from core.models import Tenant, Ticket, User
from core.permissions import Actor, require_admin
from core.services import audit
from core.services.identity import actor_for
from core.services.links import EXPIRED, FORGED, LinkRefused
from core.services.tickets import Changes, update_ticket
from hub.context import Hub

TTL = timedelta(days=30)
SETTING = "rating_scale"
STARS = [
    (n, f"{n} of 5" + (" (best)" if n == 5 else " (worst)" if n == 1 else "")) for n in range(1, 6)
]
THUMBS = [(5, "Thumbs up: it helped"), (1, "Thumbs down: it did not")]
_SIG = 22


@dataclass(frozen=True)
class RatingLink:
    """A verified link: which ticket, whose, which score."""

    ticket_id: int
    tenant_id: uuid.UUID
    user_id: int
    score: int


def _message(ticket_id: int, user_id: int, score: int, expires: int) -> str:
    return f"rate:{ticket_id}:{user_id}:{score}:{expires}"


def scale(session: Session, tenant_id: uuid.UUID) -> list[tuple[int, str]]:
    """The tenant's scale: (score, label) of each link."""
    settings = session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id)) or {}
    return THUMBS if settings.get(SETTING) == "thumbs" else STARS


SCALES = ("stars", "thumbs")


def scale_name(session: Session, tenant_id: uuid.UUID) -> str:
    settings = session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id)) or {}
    return "thumbs" if settings.get(SETTING) == "thumbs" else "stars"


def set_scale(session: Session, actor: Actor, name: str, *, ip: str = "") -> None:
    """The tenant's rating scale in its mail (admins), audited; the caller commits."""
    require_admin(actor, "choose the rating scale")
    if name not in SCALES:
        raise Invalid(f"the rating scale is one of {', '.join(SCALES)}", field="rating_scale")
    tenant = session.get(Tenant, actor.tenant_id)
    assert tenant is not None
    old = scale_name(session, actor.tenant_id)
    if old == name:
        return
    tenant.settings = {**(tenant.settings or {}), SETTING: name}
    audit.by_actor(session, actor, "rating_scale.changed", ip=ip, details={"old": old, "new": name})


def links(hub: Hub, tenant_id: uuid.UUID, ticket_id: int, email: str) -> list[dict[str, str]]:
    """The rating links of a ticket for its requester (``HubContext.rating_links``); empty when
    the address is not the requester's, or the ticket is rated or not done."""
    with hub.read_session() as s:
        ticket = s.get(Ticket, ticket_id)
        if ticket is None or ticket.tenant_id != tenant_id or ticket.status not in DONE_STATUSES:
            return []
        if ticket.satisfaction_rating is not None:
            return []
        user = s.get(User, ticket.created_by)
        if user is None or user.email.lower() != email.strip().lower():
            return []
        expires = int(time.time() + TTL.total_seconds())
        out = []
        for score, label in scale(s, tenant_id):
            sig = hub.keyring.sign(_message(ticket_id, user.id, score, expires), _SIG)
            token = f"{ticket_id}.{score}.{expires}.{sig}"
            out.append({"label": label, "url": f"{hub.base_url}/rate/{token}"})
        return out


def opened(hub: Hub, session: Session, token: str) -> RatingLink:
    """The link a token is, verified; ``LinkRefused`` when forged, expired or no longer the
    requester's ticket."""
    parts = token.split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts[:3]):
        raise LinkRefused(FORGED)
    ticket_id, score, expires = (int(p) for p in parts[:3])
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or score not in range(1, 6):
        raise LinkRefused(FORGED)
    if not hub.keyring.verify(
        _message(ticket_id, ticket.created_by, score, expires), parts[3], _SIG
    ):
        raise LinkRefused(FORGED)
    if expires < time.time():
        raise LinkRefused(EXPIRED)
    return RatingLink(ticket_id, ticket.tenant_id, ticket.created_by, score)


def record(session: Session, link: RatingLink, *, feedback: str | None = None) -> None:
    """Record the link's score (and feedback) as the requester; the same score again writes
    nothing."""
    ticket = session.get(Ticket, link.ticket_id)
    user = session.get(User, link.user_id)
    if ticket is None or user is None:
        raise NotFound("ticket not found")
    actor = actor_for(session, link.tenant_id, user)
    changes, changed = Changes(), False
    if ticket.satisfaction_rating != link.score:
        changes.satisfaction_rating, changed = link.score, True
    if feedback is not None and feedback != ticket.feedback:
        changes.feedback, changed = feedback, True
    if changed:
        update_ticket(session, actor, ticket, changes)
