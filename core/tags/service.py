"""Tags on tickets: normalised names per tenant, added and removed by people, rules, macros and
bulk actions, each change audited on the ticket (``Tag Added`` / ``Tag Removed``); renamed and
deleted by admins (``tag.renamed`` / ``tag.deleted`` in the tenant trail).

A name is normalised once, here: trimmed, case-folded, inner white space as one ``-``, a leading
``#`` dropped, at most ``MAX_NAME`` characters. ``Billing  Issue`` and ``#billing-issue`` are the
same tag.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, select, update
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Forbidden, Invalid, NotFound
from core.models import Tag, Ticket, TicketTag
from core.permissions import Actor, require_admin, require_staff, require_writer
from core.services import audit, events

MAX_NAME = 50
MAX_PER_TICKET = 30
TAG_ADDED, TAG_REMOVED = "Tag Added", "Tag Removed"
TAG_RENAMED, TAG_DELETED = "tag.renamed", "tag.deleted"
_ALLOWED = re.compile(r"^[\w.:/+-]+$")


def normalise(name: Any, field: str = "tags") -> str:
    """The stored form of a tag name, or Invalid naming ``field``."""
    if not isinstance(name, str):
        raise Invalid("a tag is a text", field=field)
    text = "-".join(name.strip().lstrip("#").casefold().split())
    if not text:
        raise Invalid("a tag must not be empty", field=field)
    if len(text) > MAX_NAME:
        raise Invalid(f"a tag has at most {MAX_NAME} characters", field=field)
    if not _ALLOWED.match(text):
        raise Invalid("a tag may hold letters, digits and - _ . : / + only", field=field)
    return text


def normalise_all(names: Iterable[Any], field: str = "tags") -> list[str]:
    """Several names, normalised, without repeats, in their order."""
    return list(dict.fromkeys(normalise(n, field) for n in names))


def _ensure(session: Session, tenant_id: uuid.UUID, names: list[str]) -> dict[str, int]:
    """{name: tag id}, creating the tags that do not exist yet (race-safe)."""
    from core.services.once import insert_ignore

    if not names:
        return {}
    found = dict(
        session.execute(
            select(Tag.name, Tag.id).where(Tag.tenant_id == tenant_id, Tag.name.in_(names))
        ).all()
    )
    missing = [n for n in names if n not in found]
    if missing:
        insert_ignore(
            session,
            Tag,
            [{"tenant_id": tenant_id, "name": n, "created_at": now()} for n in missing],
            ["tenant_id", "name"],
            Tag.id,
        )
        found = dict(
            session.execute(
                select(Tag.name, Tag.id).where(Tag.tenant_id == tenant_id, Tag.name.in_(names))
            ).all()
        )
    return found


def add_tags(session: Session, actor: Actor, ticket: Ticket, names: Iterable[Any]) -> list[str]:
    """Put tags on a ticket (staff and the system); returns the names newly added."""
    require_writer(actor)
    require_staff(actor, "tag tickets")
    wanted = normalise_all(names)
    if not wanted:
        return []
    have = set(tags_for(session, [ticket.id]).get(ticket.id, []))
    new = [n for n in wanted if n not in have]
    if not new:
        return []
    if len(have) + len(new) > MAX_PER_TICKET:
        raise Invalid(f"a ticket has at most {MAX_PER_TICKET} tags", field="tags")
    ids = _ensure(session, ticket.tenant_id, new)
    session.add_all(
        [TicketTag(ticket_id=ticket.id, tag_id=ids[n], tenant_id=ticket.tenant_id) for n in new]
    )
    for name in new:
        events.audit(session, actor, action=TAG_ADDED, ticket_id=ticket.id, new=name)
    session.flush()
    return new


def remove_tags(session: Session, actor: Actor, ticket: Ticket, names: Iterable[Any]) -> list[str]:
    """Take tags off a ticket; returns the names that were on it."""
    require_writer(actor)
    require_staff(actor, "tag tickets")
    wanted = normalise_all(names)
    if not wanted:
        return []
    rows = session.execute(
        select(Tag.id, Tag.name)
        .join(TicketTag, TicketTag.tag_id == Tag.id)
        .where(TicketTag.ticket_id == ticket.id, Tag.tenant_id == ticket.tenant_id)
        .where(Tag.name.in_(wanted))
    ).all()
    if not rows:
        return []
    session.execute(
        delete(TicketTag).where(
            TicketTag.ticket_id == ticket.id, TicketTag.tag_id.in_([r[0] for r in rows])
        )
    )
    gone = [r[1] for r in rows]
    for name in gone:
        events.audit(session, actor, action=TAG_REMOVED, ticket_id=ticket.id, old=name)
    return gone


def tags_for(session: Session, ticket_ids: Iterable[int]) -> dict[int, list[str]]:
    """{ticket id: its tag names, sorted} for a page of tickets, in one query."""
    ids = list(ticket_ids)
    out: dict[int, list[str]] = {}
    if not ids:
        return out
    rows = session.execute(
        select(TicketTag.ticket_id, Tag.name)
        .join(Tag, Tag.id == TicketTag.tag_id)
        .where(TicketTag.ticket_id.in_(ids))
        .order_by(TicketTag.ticket_id, Tag.name)
    )
    for ticket_id, name in rows:
        out.setdefault(ticket_id, []).append(name)
    return out


def has_tag(tenant_id: uuid.UUID, name: str) -> ColumnElement[bool]:
    """A WHERE clause: the ticket carries the tag (served by ``ix_support_ticket_tags_tag_ticket``)."""
    return exists(
        select(TicketTag.ticket_id)
        .join(Tag, Tag.id == TicketTag.tag_id)
        .where(
            Tag.tenant_id == tenant_id,
            Tag.name == name,
            TicketTag.ticket_id == Ticket.id,
        )
    )


def where_tags(tenant_id: uuid.UUID, names: Iterable[Any]) -> list[ColumnElement[bool]]:
    """WHERE clauses for ``?tag=`` (repeated: the ticket carries every one named)."""
    return [has_tag(tenant_id, n) for n in normalise_all(names, "tag")]


def usage(session: Session, actor: Actor, *, prefix: str = "", limit: int = 500) -> list[Any]:
    """(id, name, tickets) of the tenant's tags, by name: one grouped query."""
    if not actor.reads_all_tickets:
        raise Forbidden("only staff may list tags")
    stmt = (
        select(Tag.id, Tag.name, func.count(TicketTag.ticket_id))
        .outerjoin(TicketTag, TicketTag.tag_id == Tag.id)
        .where(Tag.tenant_id == actor.tenant_id)
        .group_by(Tag.id, Tag.name)
        .order_by(Tag.name)
        .limit(limit)
    )
    if prefix:
        clean = "-".join(prefix.strip().lstrip("#").casefold().split())
        if clean:
            escaped = clean.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(Tag.name.like(escaped + "%", escape="\\"))
    return list(session.execute(stmt).all())


def _get(session: Session, actor: Actor, tag_id: int) -> Tag:
    tag = session.scalar(select(Tag).where(Tag.id == tag_id, Tag.tenant_id == actor.tenant_id))
    if tag is None:
        raise NotFound(f"tag {tag_id} not found")
    return tag


def rename_tag(session: Session, actor: Actor, tag_id: int, new_name: Any, ip: str = "") -> Tag:
    """Rename a tag (admins). Renaming onto an existing tag merges the two."""
    require_admin(actor, "rename tags")
    tag = _get(session, actor, tag_id)
    name = normalise(new_name, "name")
    if name == tag.name:
        return tag
    old = tag.name
    other = session.scalar(select(Tag).where(Tag.tenant_id == actor.tenant_id, Tag.name == name))
    if other is None:
        tag.name = name
        kept = tag
    else:
        # Move the tickets that do not carry the other tag yet, then drop this one.
        already = select(TicketTag.ticket_id).where(TicketTag.tag_id == other.id)
        session.execute(
            update(TicketTag)
            .where(and_(TicketTag.tag_id == tag.id, TicketTag.ticket_id.not_in(already)))
            .values(tag_id=other.id)
        )
        session.execute(delete(TicketTag).where(TicketTag.tag_id == tag.id))
        session.delete(tag)
        kept = other
    audit.by_actor(
        session, actor, TAG_RENAMED, ip=ip, details={"id": tag_id, "old": old, "new": name}
    )
    session.flush()
    return kept


def delete_tag(session: Session, actor: Actor, tag_id: int, ip: str = "") -> int:
    """Delete a tag and take it off every ticket (admins); returns how many tickets had it."""
    require_admin(actor, "delete tags")
    tag = _get(session, actor, tag_id)
    count = session.scalar(
        select(func.count()).select_from(TicketTag).where(TicketTag.tag_id == tag.id)
    )
    session.execute(delete(TicketTag).where(TicketTag.tag_id == tag.id))
    audit.by_actor(
        session,
        actor,
        TAG_DELETED,
        ip=ip,
        details={"id": tag.id, "name": tag.name, "tickets": int(count or 0)},
    )
    session.delete(tag)
    session.flush()
    return int(count or 0)


def bulk_tag(
    session: Session, actor: Actor, ids: list[int], name: Any, *, remove: bool = False
) -> list[dict[str, Any]]:
    """Add (or remove) one tag on many tickets; each ticket succeeds or fails on its own."""
    from core.errors import HubError

    require_staff(actor, "run bulk actions")
    tag = normalise(name, "tag")
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
                change = remove_tags if remove else add_tags
                done = change(session, actor, ticket, [tag])
            key = "tags_removed" if remove else "tags_added"
            results.append({"id": ticket_id, "ok": True, "changes": {key: done} if done else {}})
        except HubError as exc:
            results.append({"id": ticket_id, "ok": False, "error": exc.message})
    return results
