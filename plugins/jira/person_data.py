"""What the jira plugin holds about a person: the Jira issues linked to their tickets (the issue key names no one)."""

from __future__ import annotations

import uuid

from core.api import HubContext, PersonRecord, erase_plugin_data, plugin_records

PLUGIN = "jira"
KINDS: tuple[str, ...] = ("jira_issue",)
LINKS = False
ERASE_REFS = False


def records(hub: HubContext, tenant_id: uuid.UUID, email: str) -> list[PersonRecord]:
    """The person's user links and the references of their tickets."""
    with hub.session() as s:
        return plugin_records(s, PLUGIN, tenant_id, email, KINDS, links=LINKS)


def erase(hub: HubContext, tenant_id: uuid.UUID, email: str) -> int:
    """Forget the person's user links; drop the message references of their tickets (kept
    where they name only the vendor's object, not the person)."""
    with hub.session() as s:
        return erase_plugin_data(s, PLUGIN, tenant_id, email, KINDS, links=LINKS, refs=ERASE_REFS)
