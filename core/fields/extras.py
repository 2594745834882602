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
