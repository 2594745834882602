"""Macros (quick replies): a named reply with placeholders and optional field changes.

Placeholders are ``{name}`` from a fixed list (``PLACEHOLDERS``), so a macro can never read more
of a ticket than these fields. A text is checked when it is saved (``check_placeholders``): a
placeholder that is not on the list (``{{requester.name}}``, ``{customer}``) is refused with the
valid ones named, so it never reaches a customer unfilled.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import lifecycle
from core.errors import HubError, Invalid, NotFound
from core.models import Macro, Ticket, User
from core.permissions import Actor, require_staff

PLACEHOLDERS = (
    "ticket_id",
    "subject",
    "status",
    "priority",
    "category",
    "requester_name",
    "requester_email",
    "agent_name",
    "assignee_name",
)
CHANGE_FIELDS = ("status", "priority", "category", "assigned_to")
# Tags a macro adds to (or takes off) the ticket: {"add_tags": ["vip"], "remove_tags": [...]}.
TAG_CHANGES = ("add_tags", "remove_tags")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Anything written like a placeholder in any template syntax: {x}, {{ x.y }}, ${x}, {%x%}.
_LOOKS_LIKE = re.compile(r"\$?\{+[%#]?\s*([^{}\s][^{}]{0,80}?)\s*[%#]?\}+")
PLACEHOLDER_HELP = {
    "ticket_id": "the ticket number",
    "subject": "the ticket's subject",
    "status": "its status",
    "priority": "its priority",
    "category": "its category",
    "requester_name": "the requester's name",
    "requester_email": "the requester's address",
    "agent_name": "the name of the agent who applies the macro",
    "assignee_name": "the name of the ticket's assignee",
}
MAX_BULK = 200


def _name(user: User | None) -> str:
    if user is None:
        return ""
    return user.full_name or user.email.split("@")[0]


def render(session: Session, text: str, ticket: Ticket, actor: Actor | None = None) -> str:
    """Fill the placeholders of a macro or rule text for one ticket."""
    requester = session.get(User, ticket.created_by)
    assignee = session.get(User, ticket.assigned_to) if ticket.assigned_to else None
    agent_name = (
        actor.name
        if actor is not None and actor.name and not actor.is_system
        else _name(session.get(User, actor.user_id))
        if actor is not None and actor.user_id is not None
        else _name(assignee) or "Support"
    )
    values = {
        "ticket_id": str(ticket.id),
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category,
        "requester_name": _name(requester),
        "requester_email": requester.email if requester else "",
        "agent_name": agent_name,
        "assignee_name": _name(assignee),
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def check_placeholders(text: str, field: str = "body") -> str:
    """``text`` when every placeholder in it is ``{name}`` of ``PLACEHOLDERS``; otherwise
    Invalid, naming the unknown ones and the valid ones."""
    bad = []
    for match in _LOOKS_LIKE.finditer(text or ""):
        written = match.group(0)
        if _PLACEHOLDER.fullmatch(written) and match.group(1) in PLACEHOLDERS:
            continue
        bad.append(written)
    if bad:
        valid = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        unknown = ", ".join(dict.fromkeys(bad))
        raise Invalid(f"unknown placeholder {unknown}: use one of {valid}", field=field)
    return text


def preview(session: Session, actor: Actor, macro: Macro, ticket: Ticket) -> dict[str, Any]:
    """What applying the macro to the ticket would do, with nothing written: the reply as the
    customer would read it, whether it is an internal note, and the field changes."""
    require_staff(actor, "preview macros")
    if macro.tenant_id != ticket.tenant_id:
        raise NotFound(f"macro {macro.id} not found")
    return {
        "body": render(session, macro.body or "", ticket, actor).strip(),
        "is_internal": macro.is_internal,
        "changes": dict(macro.changes or {}),
    }


def validate_changes(changes: Any) -> dict[str, Any]:
    """A macro's field changes: status, priority, category, assigned_to, add_tags, remove_tags."""
    if changes is None:
        return {}
    if not isinstance(changes, dict):
        raise Invalid("changes must be an object", field="changes")
    unknown = set(changes) - set(CHANGE_FIELDS) - set(TAG_CHANGES)
    if unknown:
        names = ", ".join((*CHANGE_FIELDS, *TAG_CHANGES))
        raise Invalid(f"changes may set only {names}", field="changes")
    changes = dict(changes)
    for name in TAG_CHANGES:
        if name in changes:
            from core.tags.service import normalise_all

            if not isinstance(changes[name], list):
                raise Invalid(f"changes.{name} must be a list of tags", field="changes")
            changes[name] = normalise_all(changes[name], "changes")
    for name, allowed in (
        ("status", lifecycle.STATUSES),
        ("priority", lifecycle.PRIORITIES),
        ("category", lifecycle.CATEGORIES),
    ):
        if name in changes and changes[name] not in allowed:
            raise Invalid(f"changes.{name} must be one of {', '.join(allowed)}", field="changes")
    assignee = changes.get("assigned_to")
    if assignee is not None and (
        not isinstance(assignee, int) or isinstance(assignee, bool) or not 0 < assignee < 2**31
    ):
        raise Invalid("changes.assigned_to must be a user id or null", field="changes")
    return dict(changes)


def get_macro(session: Session, tenant_id: uuid.UUID, macro_id: int) -> Macro:
    """The tenant's macro, or NotFound."""
    macro = session.scalar(select(Macro).where(Macro.id == macro_id, Macro.tenant_id == tenant_id))
    if macro is None:
        raise NotFound(f"macro {macro_id} not found")
    return macro


def apply_macro(
    session: Session,
    actor: Actor,
    macro: Macro,
    ticket: Ticket,
    *,
    author_id: int | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Post the macro's reply (if any) and apply its changes to one ticket."""
    from core.services.comments import add_comment
    from core.services.tickets import UNSET, Changes, update_ticket

    require_staff(actor, "apply macros")
    if macro.tenant_id != ticket.tenant_id:
        raise NotFound(f"macro {macro.id} not found")
    if not macro.is_active:
        raise Invalid("this macro is switched off", field="macro")
    # A macro saved before placeholders were checked is refused, not sent half filled.
    check_placeholders(macro.body or "", "macro")
    out: dict[str, Any] = {"ticket_id": ticket.id}
    body = render(session, macro.body or "", ticket, actor).strip()
    payload = {"macro_id": macro.id, **(extra or {})}
    if body:
        row = add_comment(
            session,
            actor,
            ticket,
            comment=body,
            is_internal=macro.is_internal,
            channel="macro" if author_id is None else "automation",
            author_id=author_id,
            extra=payload,
        )
        out["comment_id"] = row.id
    fields = {name: macro.changes.get(name, UNSET) for name in CHANGE_FIELDS}
    if any(value is not UNSET for value in fields.values()):
        out["changes"] = update_ticket(session, actor, ticket, Changes(**fields, extra=payload))
    if macro.changes.get("add_tags") or macro.changes.get("remove_tags"):
        from core.tags.service import add_tags, remove_tags

        out["tags_added"] = add_tags(session, actor, ticket, macro.changes.get("add_tags") or [])
        out["tags_removed"] = remove_tags(
            session, actor, ticket, macro.changes.get("remove_tags") or []
        )
    return out


def apply_bulk(
    session: Session, actor: Actor, macro_id: int, ticket_ids: list[int]
) -> list[dict[str, Any]]:
    """Apply a macro to many tickets; each in its own savepoint, so one failure spoils none."""
    from core.services.tickets import get_ticket

    require_staff(actor, "apply macros")
    if not ticket_ids:
        raise Invalid("ticket_ids must not be empty", field="ticket_ids")
    if len(ticket_ids) > MAX_BULK:
        raise Invalid(f"at most {MAX_BULK} tickets at once", field="ticket_ids")
    macro = get_macro(session, actor.tenant_id, macro_id)
    results: list[dict[str, Any]] = []
    for ticket_id in dict.fromkeys(ticket_ids):
        try:
            with session.begin_nested():
                ticket = get_ticket(session, actor, ticket_id, for_update=True)
                results.append(
                    {"id": ticket_id, "ok": True, **apply_macro(session, actor, macro, ticket)}
                )
        except HubError as exc:
            results.append(
                {"id": ticket_id, "ok": False, "status": exc.status, "detail": exc.message}
            )
    return results
