"""Merging two people of a tenant who are one (the same customer writing from two addresses,
or from mail and Slack): everything of the source moves to the target in the caller's
transaction, the source is deactivated (never deleted: audit rows naming them stay valid).

What happens to each table with a person column (``ForeignKey("auth_user.id")``):

- moved: tickets (requester, and assignee should one be), comments, attachments uploaded,
  in-app notifications, knowledge-base deflections, legal holds on the person, the
  organisation link and notification preferences (where the target has none; else the
  target's stay), participant references of mail threads (by address);
- kept, naming the source: ticket audit rows (each moved ticket gets a ``Requester
  Changed`` row) and ``tenant_audit`` (history), notification
  deliveries (idempotency records of sent notices), exports of the source's data, two-factor
  secrets; staff-only columns (authors of articles, rules, macros, templates, releases of held
  files, saved reports and views) cannot name an end user;
- ended: the source's membership here is deactivated, their account too, and their sessions,
  API tokens and unused sign-in links are revoked;
- plugins: the ``hub_merge_person`` hook (chat accounts linked to the source's address, chat
  transcripts), in the same transaction.

Refused: a person with themselves, staff (agents, admins, managers) on either side, anyone who
is not a member of this tenant (404), a source that belongs to another tenant too (that
account is the operator's), or one already deactivated."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Conflict, Invalid, NotFound
from core.kb.models import KbDeflection
from core.models import (
    ApiToken,
    Attachment,
    Audit,
    AuthLink,
    Comment,
    ExternalRef,
    LegalHold,
    Membership,
    Notification,
    NotificationPreference,
    Ticket,
    User,
)
from core.organisations.models import OrganisationPerson
from core.permissions import Actor, require_staff
from core.services import audit, sessions

PERSON_MERGED = "person.merged"

# (what it is called on the confirmation, model, person column)
MOVED: tuple[tuple[str, Any, Any], ...] = (
    ("tickets", Ticket, Ticket.created_by),
    ("tickets assigned", Ticket, Ticket.assigned_to),
    ("comments", Comment, Comment.user_id),
    ("attachments", Attachment, Attachment.uploaded_by),
    ("notifications", Notification, Notification.user_id),
    ("help-centre deflections", KbDeflection, KbDeflection.user_id),
    ("legal holds", LegalHold, LegalHold.user_id),
)

# A plugin's share: (session, source id, source email, target id, target email) -> records moved.
PluginMerge = Callable[[Session, int, str, int, str], int]


@dataclass(frozen=True)
class Side:
    user_id: int
    email: str
    full_name: str


def _end_user(session: Session, actor: Actor, user_id: int, which: str) -> tuple[Side, Membership]:
    row = session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == actor.tenant_id, User.id == user_id)
    ).first()
    if row is None:
        raise NotFound(f"person {user_id} not found", field=which)
    user, membership = row
    if membership.role != "end_user":
        raise Conflict(
            f"{user.email} is a staff account ({membership.role}): only end users are merged",
            field=which,
        )
    return Side(user.id, user.email, user.full_name or ""), membership


def check(session: Session, actor: Actor, source_id: int, target_id: int) -> tuple[Side, Side]:
    """Both people, or the reason the merge is refused."""
    require_staff(actor, "merge people")
    if source_id == target_id:
        raise Invalid("a person cannot be merged with themselves", field="target_id")
    source, membership = _end_user(session, actor, source_id, "source")
    target, target_membership = _end_user(session, actor, target_id, "target_id")
    if membership.deactivated_at is not None:
        raise Conflict(f"{source.email} is deactivated (merged already?)", field="source")
    if target_membership.deactivated_at is not None:
        raise Conflict(f"{target.email} is deactivated", field="target_id")
    elsewhere = session.scalar(
        select(Membership.id)
        .where(Membership.user_id == source_id, Membership.tenant_id != actor.tenant_id)
        .limit(1)
    )
    if elsewhere is not None:
        raise Conflict(
            f"{source.email} also belongs to another organisation on this hub: "
            "merge the other way round, or ask the operator",
            field="source",
        )
    return source, target


def _participants(actor: Actor, email: str) -> Any:
    return (
        (ExternalRef.tenant_id == actor.tenant_id)
        & (ExternalRef.kind == "participant")
        & (ExternalRef.value == email.lower())
    )


def preview(session: Session, actor: Actor, source_id: int, target_id: int) -> dict[str, int]:
    """What would move, counted per kind (the confirmation lists it)."""
    source, _ = check(session, actor, source_id, target_id)
    counts: dict[str, int] = {}
    for label, model, column in MOVED:
        counts[label] = int(
            session.scalar(
                select(func.count())
                .select_from(model)
                .where(model.tenant_id == actor.tenant_id, column == source_id)
            )
            or 0
        )
    counts["mail thread participations"] = int(
        session.scalar(
            select(func.count()).select_from(ExternalRef).where(_participants(actor, source.email))
        )
        or 0
    )
    counts["organisation link"] = int(
        session.get(OrganisationPerson, (actor.tenant_id, source_id)) is not None
    )
    counts["notification preferences"] = int(
        session.scalar(
            select(func.count())
            .select_from(NotificationPreference)
            .where(
                NotificationPreference.tenant_id == actor.tenant_id,
                NotificationPreference.user_id == source_id,
            )
        )
        or 0
    )
    return counts


def merge_people(
    session: Session,
    actor: Actor,
    source_id: int,
    target_id: int,
    *,
    plugins: PluginMerge | None = None,
    ip: str = "",
) -> dict[str, int]:
    """Move everything of ``source_id`` to ``target_id`` and deactivate the source; returns
    the counts moved per kind (also in the ``person.merged`` audit row). The caller commits."""
    source, target = check(session, actor, source_id, target_id)
    tenant_id = actor.tenant_id
    counts: dict[str, int] = {}
    # Each moved ticket's trail says who its requester was (one INSERT ... SELECT).
    session.execute(
        insert(Audit).from_select(
            [
                "ticket_id",
                "action",
                "performed_by",
                "old_value",
                "new_value",
                "tenant_id",
                "created_at",
            ],
            select(
                Ticket.id,
                literal("Requester Changed"),
                literal(actor.user_id, type_=Audit.performed_by.type),
                literal(source.email),
                literal(target.email),
                literal(tenant_id, type_=Audit.tenant_id.type),
                literal(now(), type_=Audit.created_at.type),
            ).where(Ticket.tenant_id == tenant_id, Ticket.created_by == source_id),
        )
    )
    for label, model, column in MOVED:
        result = session.execute(
            update(model)
            .where(model.tenant_id == tenant_id, column == source_id)
            .values({column.key: target_id})
            .execution_options(synchronize_session=False)
        )
        counts[label] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    # Mail thread participants, by address (unique per tenant: the target's own stays).
    if session.scalar(select(ExternalRef.id).where(_participants(actor, target.email)).limit(1)):
        gone = session.execute(delete(ExternalRef).where(_participants(actor, source.email)))
        counts["mail thread participations"] = int(gone.rowcount or 0)  # type: ignore[attr-defined]
    else:
        moved = session.execute(
            update(ExternalRef)
            .where(_participants(actor, source.email))
            .values(value=target.email.lower())
            .execution_options(synchronize_session=False)
        )
        counts["mail thread participations"] = int(moved.rowcount or 0)  # type: ignore[attr-defined]
    counts["organisation link"] = _move_one(
        session, OrganisationPerson, tenant_id, source_id, target_id
    )
    counts["notification preferences"] = _move_one(
        session, NotificationPreference, tenant_id, source_id, target_id
    )
    if plugins is not None:
        counts["plugin records"] = plugins(
            session, source_id, source.email, target_id, target.email
        )
    # The source signs in to nothing any more; their rows stay for the history.
    session.execute(
        update(Membership)
        .where(Membership.tenant_id == tenant_id, Membership.user_id == source_id)
        .values(deactivated_at=now(), available=False)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(User)
        .where(User.id == source_id)
        .values(is_active=False)
        .execution_options(synchronize_session=False)
    )
    sessions.revoke_all_for_user(session, source_id)
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == source_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now())
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(AuthLink)
        .where(
            AuthLink.user_id == source_id, AuthLink.used_at.is_(None), AuthLink.revoked_at.is_(None)
        )
        .values(revoked_at=now())
        .execution_options(synchronize_session=False)
    )
    audit.by_actor(
        session,
        actor,
        PERSON_MERGED,
        ip=ip,
        target_email=target.email,
        details={
            "source_id": source_id,
            "source_email": source.email,
            "target_id": target_id,
            "moved": counts,
        },
    )
    session.flush()
    session.expire_all()
    return counts


def _move_one(session: Session, model: Any, tenant_id: Any, source_id: int, target_id: int) -> int:
    """A one-per-person row: the source's moves when the target has none, else it goes."""
    mine = (model.tenant_id == tenant_id) & (model.user_id == source_id)
    if session.scalar(select(func.count()).select_from(model).where(mine)) == 0:
        return 0
    theirs = (model.tenant_id == tenant_id) & (model.user_id == target_id)
    if session.scalar(select(func.count()).select_from(model).where(theirs)):
        session.execute(delete(model).where(mine).execution_options(synchronize_session=False))
        return 0
    session.execute(
        update(model)
        .where(mine)
        .values(user_id=target_id)
        .execution_options(synchronize_session=False)
    )
    return 1
