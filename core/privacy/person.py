"""What core holds about one person of a tenant: the rows an export reads and an erasure
removes, found the same way for both. Plugins use ``links_of``/``forget_links`` (their user
links in plugin state) and ``refs_of``/``drop_refs`` (refs on the person's tickets)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.models import Attachment, Comment, ExternalRef, InboundKey, Membership, Ticket, User
from core.models.plugin import TenantPlugin
from core.types import PersonRecord


@dataclass(frozen=True)
class Person:
    """A member of the tenant: who they are and what role they hold there."""

    user_id: int
    email: str
    full_name: str
    role: str


def member(session: Session, tenant_id: uuid.UUID, user_id: int) -> Person:
    """The tenant's member by id; ``NotFound`` for anyone else (another tenant's ids too)."""
    row = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == tenant_id, User.id == user_id)
    ).first()
    if row is None:
        raise NotFound(f"user {user_id} is not a member of this tenant")
    return Person(row[0].id, row[0].email, row[0].full_name or "", row[1])


def ticket_ids(session: Session, tenant_id: uuid.UUID, user_id: int) -> list[int]:
    """The tickets the person requested."""
    return list(
        session.scalars(
            select(Ticket.id)
            .where(Ticket.tenant_id == tenant_id, Ticket.created_by == user_id)
            .order_by(Ticket.id)
        )
    )


def comment_ids(session: Session, tenant_id: uuid.UUID, user_id: int) -> list[int]:
    """The comments the person wrote."""
    return list(
        session.scalars(
            select(Comment.id)
            .where(Comment.tenant_id == tenant_id, Comment.user_id == user_id)
            .order_by(Comment.id)
        )
    )


def attachments(session: Session, tenant_id: uuid.UUID, user_id: int) -> list[Attachment]:
    """The files the person uploaded."""
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.tenant_id == tenant_id, Attachment.uploaded_by == user_id)
            .order_by(Attachment.id)
        )
    )


def raw_messages(session: Session, tenant_id: uuid.UUID, user_id: int) -> list[InboundKey]:
    """The raw messages the person sent that are still kept: those that opened their tickets
    and those that became their comments."""
    own_tickets = select(Ticket.id).where(
        Ticket.tenant_id == tenant_id, Ticket.created_by == user_id
    )
    own_comments = select(Comment.id).where(
        Comment.tenant_id == tenant_id, Comment.user_id == user_id
    )
    return list(
        session.scalars(
            select(InboundKey)
            .where(
                InboundKey.tenant_id == tenant_id,
                InboundKey.raw_path.is_not(None),
                or_(
                    InboundKey.comment_id.in_(own_comments),
                    InboundKey.comment_id.is_(None) & InboundKey.ticket_id.in_(own_tickets),
                ),
            )
            .order_by(InboundKey.id)
        )
    )


# ------------------------------------------------------------------ for plugins


def links_of(
    session: Session, tenant_id: uuid.UUID, plugin: str, email: str
) -> dict[str, dict[str, object]]:
    """The plugin's user links (state entries ``user:...`` holding ``email``) of the person."""
    state = session.scalar(
        select(TenantPlugin.state).where(
            TenantPlugin.tenant_id == tenant_id, TenantPlugin.plugin == plugin
        )
    )
    email = email.strip().lower()
    return {
        key: dict(value)
        for key, value in (state or {}).items()
        if key.startswith("user:")
        and isinstance(value, dict)
        and str(value.get("email") or "").lower() == email
    }


def forget_links(session: Session, tenant_id: uuid.UUID, plugin: str, email: str) -> int:
    """Remove the person's user links from the plugin's state; returns how many went."""
    keys = links_of(session, tenant_id, plugin, email)
    if not keys:
        return 0
    row = session.scalar(
        select(TenantPlugin)
        .where(TenantPlugin.tenant_id == tenant_id, TenantPlugin.plugin == plugin)
        .with_for_update()
    )
    if row is None:
        return 0
    row.state = {k: v for k, v in (row.state or {}).items() if k not in keys}
    return len(keys)


def move_links(
    session: Session, tenant_id: uuid.UUID, plugin: str, source_email: str, target_email: str
) -> int:
    """Point the plugin's user links of one person at another (two people merged): the chat
    accounts of the source then act as the target. Returns how many links moved."""
    keys = links_of(session, tenant_id, plugin, source_email)
    if not keys:
        return 0
    row = session.scalar(
        select(TenantPlugin)
        .where(TenantPlugin.tenant_id == tenant_id, TenantPlugin.plugin == plugin)
        .with_for_update()
    )
    if row is None:
        return 0
    state = dict(row.state or {})
    for key in keys:
        state[key] = {**dict(state[key]), "email": target_email.strip().lower()}
    row.state = state
    return len(keys)


def _requested_by(tenant_id: uuid.UUID, email: str) -> Any:
    return (
        select(Ticket.id)
        .join(User, User.id == Ticket.created_by)
        .where(Ticket.tenant_id == tenant_id, func.lower(User.email) == email.strip().lower())
    )


@dataclass(frozen=True)
class PersonRef:
    """A ref on one of the person's tickets, as plugins read it (plain values, no row)."""

    id: int
    ticket_id: int
    kind: str
    value: str
    created_at: datetime | None


def refs_of(
    session: Session, tenant_id: uuid.UUID, email: str, kinds: tuple[str, ...]
) -> list[PersonRef]:
    """The refs of these kinds on the tickets the person (by address) requested."""
    rows = session.scalars(
        select(ExternalRef)
        .where(
            ExternalRef.tenant_id == tenant_id,
            ExternalRef.kind.in_(kinds),
            ExternalRef.ticket_id.in_(_requested_by(tenant_id, email)),
        )
        .order_by(ExternalRef.id)
    )
    return [PersonRef(r.id, r.ticket_id, r.kind, r.value, r.created_at) for r in rows]


def drop_refs(session: Session, tenant_id: uuid.UUID, email: str, kinds: tuple[str, ...]) -> int:
    """Delete the refs of these kinds on the person's tickets; returns how many went."""
    result = session.execute(
        delete(ExternalRef)
        .where(
            ExternalRef.tenant_id == tenant_id,
            ExternalRef.kind.in_(kinds),
            ExternalRef.ticket_id.in_(_requested_by(tenant_id, email)),
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def plugin_records(
    session: Session,
    plugin: str,
    tenant_id: uuid.UUID,
    email: str,
    kinds: tuple[str, ...],
    *,
    links: bool,
) -> list[PersonRecord]:
    """What a chat or escalation plugin holds about a person, for an export: its user links
    (``links``) and the references of the person's tickets of the given kinds."""
    out = [
        PersonRecord(plugin, "user_link", key, None, {"key": key, **link})
        for key, link in (links_of(session, tenant_id, plugin, email) if links else {}).items()
    ]
    out += [
        PersonRecord(
            plugin,
            ref.kind,
            str(ref.id),
            ref.created_at,
            {"ticket_id": ref.ticket_id, "value": ref.value},
        )
        for ref in refs_of(session, tenant_id, email, kinds)
    ]
    return out


def erase_plugin_data(
    session: Session,
    plugin: str,
    tenant_id: uuid.UUID,
    email: str,
    kinds: tuple[str, ...],
    *,
    links: bool,
    refs: bool,
) -> int:
    """Forget a plugin's user links of the person (``links``) and drop the references of their
    tickets (``refs``; kept where they name only the vendor's object, not the person)."""
    gone = forget_links(session, tenant_id, plugin, email) if links else 0
    if refs:
        gone += drop_refs(session, tenant_id, email, kinds)
    return gone
