"""What search indexes of a ticket's tags and custom field values (the search branch calls it)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from core.fields.extras import page_extras
from core.fields.service import display


def ticket_search_text(session: Session, ticket_ids: Iterable[int]) -> dict[int, str]:
    """{ticket id: its tag names and custom field values as one text} in one query; a ticket
    with neither is left out. Tag names with ``-`` are given in both forms (``vpn-down`` and
    ``vpn down``) so that a word search finds them."""
    ids = list(ticket_ids)
    tags, values = page_extras(session, ids)
    out: dict[int, str] = {}
    for ticket_id in ids:
        parts: list[str] = []
        for name in tags.get(ticket_id, []):
            parts.append(name)
            if "-" in name:
                parts.append(name.replace("-", " "))
        for value in values.get(ticket_id, {}).values():
            if isinstance(value, bool):
                continue  # a checkbox's yes/no says nothing worth finding
            shown = display(value)
            if shown:
                parts.append(shown)
        if parts:
            out[ticket_id] = " ".join(parts)
    return out
