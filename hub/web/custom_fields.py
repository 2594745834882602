"""Custom field inputs of console forms (the portal's new ticket, the ticket page): the values a
form sent, read by each field's type, validated by ``core.fields``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.datastructures import FormData

from core.fields.service import FieldDef, Parsed, parse_values


def input_name(key: str) -> str:
    """The form name of a field's input (``cf_<key>``)."""
    return f"cf_{key}"


def sent(data: FormData, defs: Iterable[FieldDef]) -> dict[str, Any]:
    """{key: what the form sent} for each field shown (a multi-select: every box ticked)."""
    out: dict[str, Any] = {}
    for d in defs:
        name = input_name(d.key)
        if d.type == "multiselect":
            out[d.key] = [str(v)[:100] for v in data.getlist(name)]
        elif d.type == "checkbox":
            out[d.key] = "on" if data.get(name) else ""
        else:
            out[d.key] = str(data.get(name) or "")[:1000]
    return out


def read(
    data: FormData, defs: list[FieldDef], *, category: str | None, creating: bool, portal: bool
) -> tuple[list[Parsed], dict[str, str], dict[str, Any]]:
    """(valid values, {key: error}, the typed values to show again)."""
    typed = sent(data, defs)
    parsed, errors = parse_values(
        defs, typed, category=category, creating=creating, from_form=True, portal=portal
    )
    return parsed, errors, typed


def shown_values(values: dict[str, Any], defs: Iterable[FieldDef]) -> dict[str, Any]:
    """Stored values as the inputs show them (a checkbox as ``on``)."""
    out: dict[str, Any] = {}
    for d in defs:
        value = values.get(d.key)
        if d.type == "checkbox":
            out[d.key] = "on" if value else ""
        elif d.type == "multiselect":
            out[d.key] = list(value or [])
        else:
            out[d.key] = "" if value is None else str(value)
    return out
