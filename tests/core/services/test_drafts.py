"""Reply drafts in core: one per person and ticket, private, capped; a person's export holds
theirs and their erasure removes them."""

from __future__ import annotations

import pytest

from core.errors import Forbidden, Invalid
from core.permissions import Actor
from core.privacy import erasure, export
from core.services.drafts import MAX_DRAFT_CHARS, get_draft, save_draft
from core.services.tickets import get_ticket


def test_drafts_are_per_person_capped_exported_and_erased(hub, org, open_ticket) -> None:  # type: ignore[no-untyped-def]
    tid = open_ticket(org)
    tenant = org.tenant[0]
    agent = Actor(tenant, org.agent.user_id, "agent")
    admin = Actor(tenant, org.admin.user_id, "admin")
    with hub.session() as s:
        ticket = get_ticket(s, agent, tid)
        save_draft(s, agent, ticket, body="first words", kind="internal")
        save_draft(s, agent, ticket, body="second words", kind="internal")  # one per ticket
        save_draft(s, admin, ticket, body="the admin's own")
        with pytest.raises(Invalid):
            save_draft(s, agent, ticket, body="x" * (MAX_DRAFT_CHARS + 1))
        with pytest.raises(Forbidden):
            save_draft(
                s,
                Actor(tenant, org.end_user.user_id, "end_user"),
                ticket,
                body="x",
                kind="internal",
            )
    with hub.session() as s:
        ticket = get_ticket(s, agent, tid)
        mine = get_draft(s, agent, ticket)
        assert mine is not None and (mine.body, mine.kind) == ("second words", "internal")
        docs = export.collect(s, tenant, org.agent.user_id).documents
        assert [d["body"] for d in docs["drafts.json"]] == ["second words"]
        erasure.erase(s, admin, org.agent.user_id)
    with hub.session() as s:
        ticket = get_ticket(s, admin, tid)
        assert get_draft(s, agent, ticket) is None
        kept = get_draft(s, admin, ticket)
        assert kept is not None and kept.body == "the admin's own"
