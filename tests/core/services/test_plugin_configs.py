"""Plugin configurations as plugins read them: secrets decrypted once per stored ciphertext,
a change seen at the very next read, and caches told when a plugin row changes."""

from __future__ import annotations

from core.crypto import Keyring
from core.permissions import system_actor
from core.services import plugins


def test_secrets_are_decrypted_once_per_ciphertext(hub, org, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tenant = org.tenant[0]
    keyring = Keyring("a key for this test only")
    with hub.session() as s:
        plugins.set_enabled(s, system_actor(tenant), "demo", True)
        plugins.configure(
            s, system_actor(tenant), "demo", settings={}, secrets={"token": "one"}, keyring=keyring
        )
    calls = []
    decrypt = keyring.decrypt_json
    monkeypatch.setattr(keyring, "decrypt_json", lambda c, **kw: calls.append(c) or decrypt(c))
    with hub.session() as s:
        assert plugins.load_config(s, tenant, "demo", keyring).secrets == {"token": "one"}
        assert [c.secrets for c in plugins.enabled_configs(s, "demo", keyring)] == [
            {"token": "one"}
        ]
        plugins.load_config(s, tenant, "demo", keyring).secrets["token"] = "mutated"
        assert plugins.load_config(s, tenant, "demo", keyring).secrets == {"token": "one"}
    assert len(calls) == 1
    with hub.session() as s:
        plugins.configure(
            s, system_actor(tenant), "demo", settings={}, secrets={"token": "two"}, keyring=keyring
        )
    with hub.session() as s:
        assert plugins.load_config(s, tenant, "demo", keyring).secrets == {"token": "two"}


def test_listeners_hear_of_a_plugin_row_change_and_of_its_commit(hub, org, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    heard: list[str] = []
    monkeypatch.setattr(plugins, "_listeners", [])
    plugins.on_change(lambda: heard.append("changed"))
    with hub.session() as s:
        plugins.set_enabled(s, system_actor(org.tenant[0]), "demo", True)
        s.flush()
        written = len(heard)
        assert written >= 1  # the row was written (not yet committed)
    assert len(heard) > written  # and committed
    with hub.session() as s:
        plugins.save_state(s, org.tenant[0], "demo", {"cursor": 1})
        s.flush()
        written = len(heard)
    assert len(heard) > written
    heard.clear()
    with hub.session() as s:
        plugins.load_config(s, org.tenant[0], "demo", hub.keyring)
    assert heard == []  # reads say nothing
