"""What the slack plugin holds about a person: Slack user links (user id, email, name) and the Slack threads of their tickets."""

from __future__ import annotations

import uuid

from core.api import (
    HubContext,
    PersonRecord,
    drop_person_refs,
    forget_person_links,
    person_links,
    person_refs,
)

PLUGIN = "slack"
KINDS: tuple[str, ...] = ("slack_thread", "slack_triage")
LINKS = True
ERASE_REFS = True


def records(hub: HubContext, tenant_id: uuid.UUID, email: str) -> list[PersonRecord]:
    """The person's user links and the references of their tickets."""
    with hub.session() as s:
        out = [
            PersonRecord(PLUGIN, "user_link", key, None, {"key": key, **link})
            for key, link in (person_links(s, tenant_id, PLUGIN, email) if LINKS else {}).items()
        ]
        out += [
            PersonRecord(
                PLUGIN,
                ref.kind,
                str(ref.id),
                ref.created_at,
                {"ticket_id": ref.ticket_id, "value": ref.value},
            )
            for ref in person_refs(s, tenant_id, email, KINDS)
        ]
    return out


def erase(hub: HubContext, tenant_id: uuid.UUID, email: str) -> int:
    """Forget the person's user links; drop the message references of their tickets (kept
    where they name only the vendor's object, not the person)."""
    with hub.session() as s:
        gone = forget_person_links(s, tenant_id, PLUGIN, email) if LINKS else 0
        if ERASE_REFS:
            gone += drop_person_refs(s, tenant_id, email, KINDS)
    return gone
