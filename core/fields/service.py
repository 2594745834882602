"""Custom fields: definitions (admins) and their values on tickets, validated on input.

Types and the values they take (the API's ``custom_fields: {key: value}``):

- ``text``: a string of up to ``MAX_TEXT`` characters
- ``number``: a number (a form's text is parsed)
- ``date``: ``YYYY-MM-DD``
- ``dropdown``: one of the field's ``options``
- ``multiselect``: a list of its ``options``
- ``checkbox``: true or false

An empty value (null, ``""``, ``[]``) clears the field. A field whose ``required_categories``
names the ticket's category must have a value when the ticket is opened. Errors are ``Invalid``
with ``field="custom_fields.<key>"``. Definition changes are audited in the tenant trail
(``field.created``, ``field.updated``, ``field.moved``), value changes on the ticket
(``Field Changed``, old and new as text).
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, or_, select
from sqlalchemy.orm import Session

from core import lifecycle
from core.cache import TenantCache, invalidate_on_change
from core.clock import now
from core.errors import Invalid, NotFound
from core.fields.models import FIELD_TYPES
from core.models import CustomField, Ticket, TicketFieldValue
from core.permissions import Actor, require_admin, require_staff, require_writer
from core.services import audit, events

TYPE_LABELS = {
    "text": "Text",
    "number": "Number",
    "date": "Date",
    "dropdown": "Drop-down",
    "multiselect": "Multi-select",
    "checkbox": "Checkbox",
}
CHOICE_TYPES = ("dropdown", "multiselect")
MAX_TEXT = 1000
MAX_FIELDS = 100
MAX_OPTIONS = 100
FIELD_CHANGED = "Field Changed"
FIELD_CREATED, FIELD_UPDATED, FIELD_MOVED = "field.created", "field.updated", "field.moved"
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def where(key: str) -> str:
    """The error's ``field`` for a custom field."""
    return f"custom_fields.{key}"


# ---------------------------------------------------------------- definitions


def list_fields(
    session: Session, tenant_id: uuid.UUID, *, active_only: bool = True
) -> list[CustomField]:
    """The tenant's fields in their order."""
    stmt = select(CustomField).where(CustomField.tenant_id == tenant_id)
    if active_only:
        stmt = stmt.where(CustomField.is_active.is_(True))
    return list(session.scalars(stmt.order_by(CustomField.position, CustomField.id)))


def get_field(session: Session, actor: Actor, field_id: int) -> CustomField:
    row = session.scalar(
        select(CustomField).where(
            CustomField.id == field_id, CustomField.tenant_id == actor.tenant_id
        )
    )
    if row is None:
        raise NotFound(f"custom field {field_id} not found")
    return row


def _clean_options(kind: str, options: Any) -> list[str]:
    if kind not in CHOICE_TYPES:
        return []
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise Invalid("options must be a list of texts", field="options")
    cleaned = list(dict.fromkeys(o.strip() for o in options if o.strip()))
    if not cleaned:
        raise Invalid(f"a {TYPE_LABELS[kind].lower()} field needs options", field="options")
    if len(cleaned) > MAX_OPTIONS or any(len(o) > 100 for o in cleaned):
        raise Invalid(f"at most {MAX_OPTIONS} options of 100 characters", field="options")
    return cleaned


def _clean_categories(categories: Any) -> list[str]:
    if not isinstance(categories, list):
        raise Invalid("required_categories must be a list", field="required_categories")
    bad = [c for c in categories if c not in lifecycle.CATEGORIES]
    if bad:
        raise Invalid(
            f"required_categories must be among {', '.join(lifecycle.CATEGORIES)}",
            field="required_categories",
        )
    return list(dict.fromkeys(categories))


def _clean_label(label: Any) -> str:
    if not isinstance(label, str) or not label.strip():
        raise Invalid("a field needs a label", field="label")
    if len(label.strip()) > 100:
        raise Invalid("a label has at most 100 characters", field="label")
    return label.strip()


def create_field(
    session: Session,
    actor: Actor,
    *,
    key: Any,
    label: Any,
    type: Any,
    options: Any = None,
    required_categories: Any = None,
    show_on_ticket: bool = True,
    show_on_portal: bool = False,
    ip: str = "",
) -> CustomField:
    """A new field at the end of the list (admins)."""
    require_admin(actor, "define custom fields")
    if not isinstance(key, str) or not _KEY.match(key):
        raise Invalid(
            "key: a lower-case letter, then letters, digits or _ (at most 40)", field="key"
        )
    if type not in FIELD_TYPES:
        raise Invalid(f"type must be one of {', '.join(FIELD_TYPES)}", field="type")
    existing = session.execute(
        select(func.count(), func.max(CustomField.position)).where(
            CustomField.tenant_id == actor.tenant_id
        )
    ).one()
    if existing[0] >= MAX_FIELDS:
        raise Invalid(f"at most {MAX_FIELDS} custom fields", field="key")
    taken = session.scalar(
        select(CustomField.id).where(
            CustomField.tenant_id == actor.tenant_id, CustomField.key == key
        )
    )
    if taken is not None:
        raise Invalid(f"a field with the key {key} exists already", field="key")
    at = now()
    row = CustomField(
        tenant_id=actor.tenant_id,
        key=key,
        label=_clean_label(label),
        type=type,
        options=_clean_options(type, options or []),
        required_categories=_clean_categories(required_categories or []),
        show_on_ticket=bool(show_on_ticket),
        show_on_portal=bool(show_on_portal),
        position=(existing[1] or 0) + 1,
        is_active=True,
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    session.flush()
    audit.by_actor(
        session, actor, FIELD_CREATED, ip=ip, details={"id": row.id, "key": key, "type": type}
    )
    return row


def update_field(
    session: Session, actor: Actor, field_id: int, ip: str = "", **changes: Any
) -> CustomField:
    """Change a field's label, options, required categories, flags or activity (admins). The key
    and the type stay: values already stored keep their meaning."""
    require_admin(actor, "define custom fields")
    row = get_field(session, actor, field_id)
    done: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "label":
            value = _clean_label(value)
        elif name == "options":
            value = _clean_options(row.type, value)
        elif name == "required_categories":
            value = _clean_categories(value)
        elif name in ("show_on_ticket", "show_on_portal", "is_active"):
            value = bool(value)
        else:
            raise Invalid(f"{name} cannot be changed", field=name)
        if getattr(row, name) != value:
            done[name] = value
            setattr(row, name, value)
    if done:
        row.updated_at = now()
        audit.by_actor(
            session,
            actor,
            FIELD_UPDATED,
            ip=ip,
            details={"id": row.id, "key": row.key, "changed": sorted(done)},
        )
    return row


def move_field(
    session: Session, actor: Actor, field_id: int, step: str, ip: str = ""
) -> CustomField:
    """Move a field one place up or down the list (admins)."""
    require_admin(actor, "order custom fields")
    if step not in ("up", "down"):
        raise Invalid("step must be up or down", field="step")
    rows = list_fields(session, actor.tenant_id, active_only=False)
    index = next((i for i, r in enumerate(rows) if r.id == field_id), None)
    if index is None:
        raise NotFound(f"custom field {field_id} not found")
    other = index - 1 if step == "up" else index + 1
    if 0 <= other < len(rows):
        rows[index], rows[other] = rows[other], rows[index]
        for position, r in enumerate(rows, start=1):
            r.position = position
        audit.by_actor(
            session,
            actor,
            FIELD_MOVED,
            ip=ip,
            details={"id": field_id, "key": rows[other].key, "step": step},
        )
    return rows[other] if 0 <= other < len(rows) else rows[index]


@dataclass(frozen=True)
class FieldDef:
    """An active field as validation needs it (cached per tenant, detached from any session)."""

    id: int
    key: str
    label: str
    type: str
    options: tuple[str, ...]
    required_categories: tuple[str, ...]
    show_on_ticket: bool
    show_on_portal: bool
    is_active: bool = True


_defs: TenantCache[tuple[FieldDef, ...]] = TenantCache()
invalidate_on_change(CustomField, _defs)


def definitions(session: Session, tenant_id: uuid.UUID) -> tuple[FieldDef, ...]:
    """The tenant's active fields in their order (cached for a few seconds; dropped on change)."""

    def load() -> tuple[FieldDef, ...]:
        return tuple(
            FieldDef(
                id=f.id,
                key=f.key,
                label=f.label,
                type=f.type,
                options=tuple(f.options or []),
                required_categories=tuple(f.required_categories or []),
                show_on_ticket=f.show_on_ticket,
                show_on_portal=f.show_on_portal,
            )
            for f in list_fields(session, tenant_id)
        )

    with session.no_autoflush:
        return _defs.get(tenant_id, "active", load)


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class Parsed:
    """A validated value: ``value`` to store (None: clear the field), ``text`` its text form."""

    field: FieldDef | CustomField
    value: Any
    text: str


def _empty(raw: Any) -> bool:
    return raw is None or raw == "" or raw == []


def parse_value(definition: FieldDef | CustomField, raw: Any, *, from_form: bool = False) -> Parsed:
    """One value checked against its field's type and options; Invalid names the field."""
    key, kind = definition.key, definition.type
    if kind == "checkbox":
        if from_form:
            raw = raw in ("on", "true", "1", "yes", True)
        if raw is None:
            return Parsed(definition, None, "")
        if not isinstance(raw, bool):
            raise Invalid(f"{key} must be true or false", field=where(key))
        return Parsed(definition, raw, "yes" if raw else "no")
    if _empty(raw):
        return Parsed(definition, None, "")
    if kind == "text":
        if not isinstance(raw, str):
            raise Invalid(f"{key} must be a text", field=where(key))
        if len(raw) > MAX_TEXT:
            raise Invalid(f"{key} has at most {MAX_TEXT} characters", field=where(key))
        text = raw.strip()
        return Parsed(definition, text or None, text)
    if kind == "number":
        if from_form and isinstance(raw, str):
            try:
                raw = float(raw.strip().replace(",", "."))
            except ValueError:
                raise Invalid(f"{key} must be a number", field=where(key)) from None
            raw = int(raw) if raw.is_integer() and abs(raw) < 2**53 else raw
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise Invalid(f"{key} must be a number", field=where(key))
        if isinstance(raw, float) and not math.isfinite(raw):
            raise Invalid(f"{key} must be a finite number", field=where(key))
        if abs(raw) >= 1e15:
            raise Invalid(f"{key} is out of range", field=where(key))
        return Parsed(definition, raw, str(raw))
    if kind == "date":
        if not isinstance(raw, str):
            raise Invalid(f"{key} must be a date (YYYY-MM-DD)", field=where(key))
        try:
            day = date.fromisoformat(raw.strip())
        except ValueError:
            raise Invalid(f"{key} must be a date (YYYY-MM-DD)", field=where(key)) from None
        if len(raw.strip()) != 10:
            raise Invalid(f"{key} must be a date (YYYY-MM-DD)", field=where(key))
        return Parsed(definition, day.isoformat(), day.isoformat())
    options = list(definition.options or [])
    if kind == "dropdown":
        if not isinstance(raw, str) or raw not in options:
            raise Invalid(f"{key} must be one of {', '.join(options)}", field=where(key))
        return Parsed(definition, raw, raw)
    # multiselect
    if from_form and isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise Invalid(f"{key} must be a list of options", field=where(key))
    bad = [v for v in raw if v not in options]
    if bad:
        raise Invalid(
            f"{key}: {', '.join(bad)} is not one of {', '.join(options)}", field=where(key)
        )
    chosen = [o for o in options if o in raw]  # in the field's order, once each
    return Parsed(definition, chosen, "|" + "|".join(chosen) + "|")


def parse_values(
    defs: Iterable[FieldDef | CustomField],
    raw: dict[str, Any],
    *,
    category: str | None,
    creating: bool,
    from_form: bool = False,
    portal: bool = False,
) -> tuple[list[Parsed], dict[str, str]]:
    """Every sent value validated: (values, {key: message}) so that a form shows each error
    beside its field. ``creating`` checks the fields the category requires; ``portal`` only
    accepts and requires the fields shown on the portal."""
    if not isinstance(raw, dict):
        return [], {"custom_fields": "custom_fields must be an object {key: value}"}
    active = {d.key: d for d in defs if d.is_active and (d.show_on_portal or not portal)}
    errors: dict[str, str] = {}
    out: list[Parsed] = []
    for key, value in raw.items():
        definition = active.get(key)
        if definition is None:
            errors[key] = f"{key} is not a custom field of this tenant"
            continue
        try:
            parsed = parse_value(definition, value, from_form=from_form)
        except Invalid as exc:
            errors[key] = exc.message
            continue
        if parsed.value is None and category in (definition.required_categories or []):
            errors[key] = f"{definition.label} is required for {category} tickets"
            continue
        out.append(parsed)
    if creating:
        for definition in active.values():
            needed = category in (definition.required_categories or [])
            if needed and definition.key not in raw and definition.key not in errors:
                errors[definition.key] = f"{definition.label} is required for {category} tickets"
    return out, errors


def check_values(
    session: Session,
    tenant_id: uuid.UUID,
    raw: dict[str, Any],
    *,
    category: str | None,
    creating: bool,
) -> list[Parsed]:
    """``parse_values`` for the API: the first error raised as Invalid naming the field."""
    parsed, errors = parse_values(
        definitions(session, tenant_id), raw, category=category, creating=creating
    )
    if errors:
        key, message = next(iter(errors.items()))
        raise Invalid(message, field=where(key) if key != "custom_fields" else key)
    return parsed


def set_values(
    session: Session, actor: Actor, ticket: Ticket, parsed: list[Parsed]
) -> dict[str, Any]:
    """Store validated values on a ticket (None clears); each change audited. Returns
    {key: [old, new]} of what changed."""
    require_writer(actor)
    if not parsed:
        return {}
    ids = [p.field.id for p in parsed]
    current = {
        row.field_id: row
        for row in session.scalars(
            select(TicketFieldValue).where(
                TicketFieldValue.ticket_id == ticket.id, TicketFieldValue.field_id.in_(ids)
            )
        )
    }
    done: dict[str, Any] = {}
    for p in parsed:
        row = current.get(p.field.id)
        old = row.value if row is not None else None
        if old == p.value:
            continue
        if p.value is None:
            session.execute(
                delete(TicketFieldValue).where(
                    TicketFieldValue.ticket_id == ticket.id, TicketFieldValue.field_id == p.field.id
                )
            )
        elif row is None:
            session.add(
                TicketFieldValue(
                    ticket_id=ticket.id,
                    field_id=p.field.id,
                    tenant_id=ticket.tenant_id,
                    value=p.value,
                    value_text=p.text[:500],
                )
            )
        else:
            row.value = p.value
            row.value_text = p.text[:500]
        done[p.field.key] = [old, p.value]
        events.audit(
            session,
            actor,
            action=FIELD_CHANGED,
            ticket_id=ticket.id,
            old=display(old),
            new=display(p.value),
            details={"field": p.field.key},
        )
    session.flush()
    return done


def display(value: Any) -> str | None:
    """A value as people read it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def values_for(session: Session, ticket_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """{ticket id: {key: value}} of a page of tickets (active fields), in one query."""
    ids = list(ticket_ids)
    out: dict[int, dict[str, Any]] = {}
    if not ids:
        return out
    rows = session.execute(
        select(TicketFieldValue.ticket_id, CustomField.key, TicketFieldValue.value)
        .join(CustomField, CustomField.id == TicketFieldValue.field_id)
        .where(TicketFieldValue.ticket_id.in_(ids), CustomField.is_active.is_(True))
        .order_by(TicketFieldValue.ticket_id, CustomField.position, CustomField.id)
    )
    for ticket_id, key, value in rows:
        out.setdefault(ticket_id, {})[key] = value
    return out


def field_filter(tenant_id: uuid.UUID, key: str, value: str) -> ColumnElement[bool]:
    """A WHERE clause for ``?field.<key>=<value>``: the ticket's value of the field is ``value``
    (a multi-select: holds it; a checkbox: ``yes``/``no``, ``true``/``false``)."""
    text = value.strip()
    if text.lower() in ("true", "false"):
        text = "yes" if text.lower() == "true" else "no"
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return exists(
        select(TicketFieldValue.ticket_id)
        .join(CustomField, CustomField.id == TicketFieldValue.field_id)
        .where(
            CustomField.tenant_id == tenant_id,
            CustomField.key == key,
            TicketFieldValue.ticket_id == Ticket.id,
            or_(
                TicketFieldValue.value_text == text,
                TicketFieldValue.value_text.like(f"%|{escaped}|%", escape="\\"),
            ),
        )
    )


def check_filter_keys(session: Session, tenant_id: uuid.UUID, keys: Iterable[str]) -> None:
    """Invalid naming ``field.<key>`` when a filter names no field of the tenant."""
    wanted = set(keys)
    if not wanted:
        return
    known = set(
        session.scalars(
            select(CustomField.key).where(
                CustomField.tenant_id == tenant_id, CustomField.key.in_(wanted)
            )
        )
    )
    for key in sorted(wanted - known):
        raise Invalid(f"{key} is not a custom field of this tenant", field=f"field.{key}")


def require_editor(actor: Actor) -> None:
    """Who may change a ticket's custom fields after it is opened: staff."""
    require_writer(actor)
    require_staff(actor, "change custom fields")
