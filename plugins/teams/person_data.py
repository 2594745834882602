"""What the teams plugin holds about a person: Teams user links (AAD or Teams id, email, name) and the conversations of their tickets."""

from __future__ import annotations

import uuid

from core.api import HubContext, PersonRecord, erase_plugin_data, plugin_records

PLUGIN = "teams"
KINDS: tuple[str, ...] = ("teams_conversation", "teams_activity", "teams_triage")
LINKS = True
ERASE_REFS = True


def records(hub: HubContext, tenant_id: uuid.UUID, email: str) -> list[PersonRecord]:
    """The person's user links and the references of their tickets."""
    with hub.session() as s:
        return plugin_records(s, PLUGIN, tenant_id, email, KINDS, links=LINKS)


def erase(hub: HubContext, tenant_id: uuid.UUID, email: str) -> int:
    """Forget the person's user links; drop the message references of their tickets (kept
    where they name only the vendor's object, not the person)."""
    with hub.session() as s:
        return erase_plugin_data(s, PLUGIN, tenant_id, email, KINDS, links=LINKS, refs=ERASE_REFS)
