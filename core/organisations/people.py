"""A person of a tenant as staff see them: who they are, their organisation, their identities
on every channel and their tickets (paged through ``core.services.tickets.list_tickets``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import Invalid
from core.models import Membership, Ticket, User
from core.models.plugin import TenantPlugin
from core.organisations.service import organisation_of
from core.permissions import Actor, require_reader
from core.privacy.person import member


@dataclass(frozen=True)
class Identity:
    """One way the person reaches the tenant: their address, or a chat account a plugin links
    to them (``key`` as the plugin stores it, e.g. ``user:T1:U2``)."""

    kind: str  # "email" or the plugin's name (slack, teams, ...)
    value: str
    label: str = ""


@dataclass(frozen=True)
class Profile:
    user_id: int
    email: str
    full_name: str
    role: str
    active: bool
    organisation_id: int | None
    organisation_name: str | None
    identities: list[Identity] = field(default_factory=list)
    channels: dict[str, int] = field(default_factory=dict)


def _identities(session: Session, tenant_id: uuid.UUID, email: str) -> list[Identity]:
    """The address, then every plugin's user links holding it (the ``user:...`` entries of
    plugin state, as ``core.privacy.person.links_of`` reads them), in one query."""
    out = [Identity("email", email)]
    wanted = email.strip().lower()
    for plugin, state in session.execute(
        select(TenantPlugin.plugin, TenantPlugin.state)
        .where(TenantPlugin.tenant_id == tenant_id)
        .order_by(TenantPlugin.plugin)
    ):
        for key, value in sorted((state or {}).items()):
            if (
                key.startswith("user:")
                and isinstance(value, dict)
                and str(value.get("email") or "").lower() == wanted
            ):
                account = key.split(":", 1)[1]
                out.append(Identity(plugin, account, str(value.get("name") or "")))
    return out


def profile(session: Session, actor: Actor, user_id: int) -> Profile:
    """The tenant's member (staff and managers read it; ``NotFound`` for anyone else)."""
    require_reader(actor, "people's pages")
    person = member(session, actor.tenant_id, user_id)
    active = bool(
        session.scalar(
            select(Membership.deactivated_at.is_(None) & User.is_active.is_(True))
            .join(User, User.id == Membership.user_id)
            .where(Membership.tenant_id == actor.tenant_id, Membership.user_id == user_id)
        )
    )
    org = organisation_of(session, actor.tenant_id, user_id)
    channels = {
        str(ch): int(n)
        for ch, n in session.execute(
            select(Ticket.channel, func.count())
            .where(Ticket.tenant_id == actor.tenant_id, Ticket.created_by == user_id)
            .group_by(Ticket.channel)
            .order_by(Ticket.channel)
        )
    }
    return Profile(
        user_id=person.user_id,
        email=person.email,
        full_name=person.full_name,
        role=person.role,
        active=active,
        organisation_id=org.id if org else None,
        organisation_name=org.name if org else None,
        identities=_identities(session, actor.tenant_id, person.email),
        channels=channels,
    )


def find_people(session: Session, actor: Actor, q: str, *, limit: int = 10) -> list[Any]:
    """End users of the tenant whose address or name starts with / contains ``q`` (for the
    requester field's suggestions): rows of (id, email, full_name)."""
    require_reader(actor, "people")
    term = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if len(term) < 2:
        return []
    return list(
        session.execute(
            select(User.id, User.email, User.full_name)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.tenant_id == actor.tenant_id,
                Membership.role == "end_user",
                Membership.deactivated_at.is_(None),
                User.is_active.is_(True),
                func.lower(User.email).like(f"%{term}%", escape="\\")
                | func.lower(User.full_name).like(f"%{term}%", escape="\\"),
            )
            .order_by(User.email)
            .limit(limit)
        ).all()
    )


def requester_for(session: Session, actor: Actor, email: str) -> int:
    """The requester of a ticket staff open on someone's behalf: the member with this address,
    or (as the API's ``requester_email`` does) a new end user of the tenant; their id."""
    from core.permissions import require_staff
    from core.services import identity

    require_staff(actor, "open tickets for someone else")
    try:
        user = identity.ensure_user(session, email=email)
    except Invalid as exc:
        raise Invalid(exc.message, field="requester_email") from exc
    if identity.membership(session, actor.tenant_id, user.id) is None:
        identity.ensure_member(session, actor.tenant_id, user, "end_user")
    return user.id
