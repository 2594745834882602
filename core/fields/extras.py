"""Tags and custom field values given with a new ticket or a change: validated before anything
is written, stored in the ticket's own transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from core.errors import Forbidden
from core.fields import service as fields
from core.models import Ticket
from core.permissions import Actor
from core.tags import service as tags


def for_new_ticket(
    session: Session,
    actor: Actor,
    *,
    category: str,
    tag_names: list[Any] | None = None,
    values: dict[str, Any] | None = None,
    parsed: list[fields.Parsed] | None = None,
) -> Callable[[Ticket], None] | None:
    """Check the tags (staff only) and the values (the category's required fields included);
    returns what ``create_ticket(before_events=...)`` runs, or None when there is nothing to
    store. ``parsed``: values a form validated already."""
    names = tags.normalise_all(tag_names or [])
    if names and not actor.is_staff:
        raise Forbidden("only agents and admins may tag tickets")
    if parsed is None:
        parsed = fields.check_values(
            session, actor.tenant_id, values or {}, category=category, creating=True
        )
    parsed = [p for p in parsed if p.value is not None]
    if not names and not parsed:
        return None

    def store(ticket: Ticket) -> None:
        fields.set_values(session, actor, ticket, parsed)
        if names:
            tags.add_tags(session, actor, ticket, names)

    return store


def change(
    session: Session,
    actor: Actor,
    ticket: Ticket,
    *,
    add: list[Any] | None = None,
    remove: list[Any] | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Tags added and removed and values set on an existing ticket (staff); what changed."""
    done: dict[str, Any] = {}
    if values:
        fields.require_editor(actor)
        parsed = fields.check_values(
            session, actor.tenant_id, values, category=ticket.category, creating=False
        )
        changed = fields.set_values(session, actor, ticket, parsed)
        if changed:
            done["custom_fields"] = changed
    if add:
        added = tags.add_tags(session, actor, ticket, add)
        if added:
            done["tags_added"] = added
    if remove:
        removed = tags.remove_tags(session, actor, ticket, remove)
        if removed:
            done["tags_removed"] = removed
    return done


def page_extras(
    session: Session, ticket_ids: list[int]
) -> tuple[dict[int, list[str]], dict[int, dict[str, Any]]]:
    """({ticket id: tag names}, {ticket id: {key: value}}) of a page of tickets in ONE query
    (a UNION ALL of the tags and the active fields' values), so that a list costs one query
    more, whatever its length."""
    import json

    from sqlalchemy import Integer, String, Text, cast, literal, select, union_all

    from core.models import CustomField, Tag, TicketFieldValue, TicketTag

    tags_out: dict[int, list[str]] = {}
    values_out: dict[int, dict[str, Any]] = {}
    if not ticket_ids:
        return tags_out, values_out
    tag_rows = (
        select(
            TicketTag.ticket_id.label("ticket_id"),
            literal("t", String).label("kind"),
            Tag.name.label("name"),
            cast(literal(None), Text).label("value"),
            literal(0, Integer).label("position"),
        )
        .join(Tag, Tag.id == TicketTag.tag_id)
        .where(TicketTag.ticket_id.in_(ticket_ids))
    )
    value_rows = (
        select(
            TicketFieldValue.ticket_id,
            literal("f", String),
            CustomField.key,
            cast(TicketFieldValue.value, Text),
            CustomField.position,
        )
        .join(CustomField, CustomField.id == TicketFieldValue.field_id)
        .where(TicketFieldValue.ticket_id.in_(ticket_ids), CustomField.is_active.is_(True))
    )
    both = union_all(tag_rows, value_rows).subquery()
    rows = session.execute(
        select(both.c.ticket_id, both.c.kind, both.c.name, both.c.value).order_by(
            both.c.ticket_id, both.c.kind, both.c.position, both.c.name
        )
    )
    for ticket_id, kind, name, value in rows:
        if kind == "t":
            tags_out.setdefault(ticket_id, []).append(name)
        elif value is not None:
            values_out.setdefault(ticket_id, {})[name] = json.loads(value)
    return tags_out, values_out
