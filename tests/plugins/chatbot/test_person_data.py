"""The person-data hooks of the chatbot: a visitor's chats exported, then erased."""

from __future__ import annotations

from typing import Any

from core.api import PersonRecord
from hub.context import Hub
from plugins.chatbot import store


def _chat(hub: Hub, tenant_id: Any, email: str | None, *lines: str) -> int:
    with hub.session() as s:
        chat, _ = store.create_session(s, tenant_id, "203.0.113.7")
        chat.email = email
        for line in lines:
            store.add_message(s, chat, "user", line)
        return chat.id


def test_hook_hub_person_data(hub: Hub, chat_org, other_org) -> None:  # type: ignore[no-untyped-def]
    """Fan-out on the tenant's relay: the chatbot's list holds the person's sessions and every
    line of them, nobody else's and no other tenant's."""
    tenant = chat_org.tenant[0]
    mine = _chat(hub, tenant, "ann@example.com", "my vpn is down", "still down")
    _chat(hub, tenant, "bob@example.com", "not Ann")
    _chat(hub, tenant, None, "anonymous")
    hub.set_enabled(other_org.tenant[0], "chatbot", True, reason="test")
    _chat(hub, other_org.tenant[0], "ann@example.com", "another tenant")
    lists = hub.hooks(tenant).hub_person_data(tenant_id=tenant, email="Ann@Example.com", hub=hub)
    records = [r for found in lists for r in found if r.plugin == "chatbot"]
    assert all(isinstance(r, PersonRecord) for r in records)
    assert [(r.kind, r.data.get("text")) for r in records] == [
        ("chat_session", None),
        ("chat_message", "my vpn is down"),
        ("chat_message", "still down"),
    ]
    assert records[0].id == str(mine) and records[0].data["email"] == "ann@example.com"


def test_hook_hub_erase_person(hub: Hub, chat_org, other_org) -> None:  # type: ignore[no-untyped-def]
    """Fan-out on the tenant's relay: the chatbot deletes the person's sessions and lines and
    returns how many; a second call returns 0; others' chats stay."""
    tenant = chat_org.tenant[0]
    _chat(hub, tenant, "ann@example.com", "one", "two")
    bob = _chat(hub, tenant, "bob@example.com", "keep me")
    hub.set_enabled(other_org.tenant[0], "chatbot", True, reason="test")
    theirs = _chat(hub, other_org.tenant[0], "ann@example.com", "other tenant")
    relay = hub.hooks(tenant)
    assert relay.hub_erase_person(tenant_id=tenant, email="ann@example.com", hub=hub) == [3]
    assert relay.hub_erase_person(tenant_id=tenant, email="ann@example.com", hub=hub) == [0]
    assert relay.hub_person_data(tenant_id=tenant, email="ann@example.com", hub=hub) == [[]]
    with hub.read_session() as s:
        assert [m.text for m in store.messages_after(s, bob, 0)] == ["keep me"]
        assert [m.text for m in store.messages_after(s, theirs, 0)] == ["other tenant"]
