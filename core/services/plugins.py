"""Per-tenant plugin rows: enable, disable, configure; secrets encrypted, every change audited."""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, object_session

from core.clock import now
from core.crypto import Keyring, UndecryptableSecret
from core.models import TenantPlugin
from core.permissions import Actor, require_admin
from core.services import events


@dataclass(frozen=True)
class PluginConfig:
    """A plugin's view of its configuration for one tenant, secrets decrypted."""

    tenant_id: uuid.UUID
    plugin: str
    enabled: bool
    settings: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        """A setting or secret by name."""
        if key in self.secrets:
            return self.secrets[key]
        return self.settings.get(key, default)


def _row(
    session: Session, tenant_id: uuid.UUID, plugin: str, *, create: bool
) -> TenantPlugin | None:
    row = session.scalar(
        select(TenantPlugin).where(
            TenantPlugin.tenant_id == tenant_id, TenantPlugin.plugin == plugin
        )
    )
    if row is None and create:
        row = TenantPlugin(
            tenant_id=tenant_id,
            plugin=plugin,
            enabled=False,
            settings={},
            state={},
            updated_at=now(),
        )
        session.add(row)
        session.flush()
    return row


def plugin_rows(session: Session, tenant_id: uuid.UUID) -> dict[str, TenantPlugin]:
    return {
        r.plugin: r
        for r in session.scalars(select(TenantPlugin).where(TenantPlugin.tenant_id == tenant_id))
    }


def disabled_plugins(session: Session, tenant_id: uuid.UUID, installed: list[str]) -> set[str]:
    """Installed plugins this tenant has not enabled."""
    enabled = set(
        session.scalars(
            select(TenantPlugin.plugin).where(
                TenantPlugin.tenant_id == tenant_id, TenantPlugin.enabled.is_(True)
            )
        )
    )
    return {name for name in installed if name not in enabled}


def set_enabled(session: Session, actor: Actor, plugin: str, enabled: bool) -> TenantPlugin:
    require_admin(actor, "enable or disable plugins")
    row = _row(session, actor.tenant_id, plugin, create=True)
    assert row is not None
    if row.enabled != enabled:
        events.audit(
            session,
            actor,
            action="Plugin Enabled" if enabled else "Plugin Disabled",
            ticket_id=None,
            old=plugin if row.enabled else None,
            new=plugin if enabled else None,
            details={"plugin": plugin},
        )
        row.enabled = enabled
        row.updated_at = now()
    return row


def configure(
    session: Session,
    actor: Actor,
    plugin: str,
    *,
    settings: dict[str, Any],
    secrets: dict[str, Any],
    keyring: Keyring,
) -> TenantPlugin:
    """Merge new settings and secrets into the row; the audit names keys, never secret values."""
    require_admin(actor, "configure plugins")
    row = _row(session, actor.tenant_id, plugin, create=True)
    assert row is not None
    old_settings = dict(row.settings or {})
    new_settings = {**old_settings, **settings}
    changed = sorted(k for k in settings if old_settings.get(k) != settings[k])
    secret_keys: list[str] = []
    if secrets:
        stored = keyring.decrypt_json(row.secrets_encrypted)
        for key, value in secrets.items():
            if value in (None, ""):
                stored.pop(key, None)
            else:
                stored[key] = value
            secret_keys.append(key)
        row.secrets_encrypted = keyring.encrypt_json(stored)
    row.settings = new_settings
    row.updated_at = now()
    events.audit(
        session,
        actor,
        action="Plugin Configured",
        ticket_id=None,
        old={k: old_settings.get(k) for k in changed} or None,
        new={k: new_settings[k] for k in changed} or None,
        details={"plugin": plugin, "settings": changed, "secrets": sorted(secret_keys)},
    )
    return row


# Decrypted secrets by ciphertext, per keyring: a plugin row's secrets are decrypted again only
# when its stored ciphertext changes (every write re-encrypts with a fresh IV), so a change
# applies at the very next read and an unchanged row costs no decryption.
_decrypted: weakref.WeakKeyDictionary[Keyring, dict[str, dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)
_decrypted_lock = threading.Lock()
_DECRYPTED_MAX = 4096


def _secrets(keyring: Keyring, cipher: str | None) -> dict[str, Any]:
    if not cipher:
        return {}
    with _decrypted_lock:
        known = _decrypted.setdefault(keyring, {})
        plain = known.get(cipher)
    if plain is None:
        plain = keyring.decrypt_json(cipher)
        with _decrypted_lock:
            if len(known) >= _DECRYPTED_MAX:
                known.clear()
            known[cipher] = plain
    return dict(plain)


def load_config(
    session: Session, tenant_id: uuid.UUID, plugin: str, keyring: Keyring
) -> PluginConfig:
    row = _row(session, tenant_id, plugin, create=False)
    if row is None:
        return PluginConfig(tenant_id=tenant_id, plugin=plugin, enabled=False)
    return PluginConfig(
        tenant_id=tenant_id,
        plugin=plugin,
        enabled=row.enabled,
        settings=dict(row.settings or {}),
        secrets=_secrets(keyring, row.secrets_encrypted),
        state=dict(row.state or {}),
    )


def enabled_configs(session: Session, plugin: str, keyring: Keyring) -> list[PluginConfig]:
    """Every tenant that has this plugin on, with its configuration."""
    rows = session.scalars(
        select(TenantPlugin).where(TenantPlugin.plugin == plugin, TenantPlugin.enabled.is_(True))
    )
    return [
        PluginConfig(
            tenant_id=r.tenant_id,
            plugin=plugin,
            enabled=True,
            settings=dict(r.settings or {}),
            secrets=_secrets(keyring, r.secrets_encrypted),
            state=dict(r.state or {}),
        )
        for r in rows
    ]


def save_state(session: Session, tenant_id: uuid.UUID, plugin: str, state: dict[str, Any]) -> None:
    """Merge plugin state (not configuration) into the row."""
    row = _row(session, tenant_id, plugin, create=True)
    assert row is not None
    row.state = {**(row.state or {}), **state}


def undecryptable(session: Session, keyring: Keyring) -> list[tuple[uuid.UUID, str]]:
    """(tenant, plugin) of every row whose stored secrets no key of the ring decrypts."""
    rows = session.execute(
        select(TenantPlugin.tenant_id, TenantPlugin.plugin, TenantPlugin.secrets_encrypted).where(
            TenantPlugin.secrets_encrypted.is_not(None)
        )
    )
    return [(tid, name) for tid, name, cipher in rows if not keyring.can_decrypt(cipher)]


@dataclass
class RotationResult:
    """What ``rotate_secrets`` did: rows re-encrypted, and rows no key opens (left as they are)."""

    rotated: int = 0
    failed: list[tuple[uuid.UUID, str]] = field(default_factory=list)


def rotate_secrets(session: Session, keyring: Keyring) -> RotationResult:
    """Re-encrypt every stored plugin secret under the ring's newest key, in the caller's
    transaction. A row no key decrypts is left unchanged and reported."""
    result = RotationResult()
    rows = session.scalars(select(TenantPlugin).where(TenantPlugin.secrets_encrypted.is_not(None)))
    for row in rows:
        if not row.secrets_encrypted:
            continue
        try:
            row.secrets_encrypted = keyring.rotate_json(row.secrets_encrypted)
        except UndecryptableSecret:
            result.failed.append((row.tenant_id, row.plugin))
            continue
        result.rotated += 1
    return result


_listeners: list[Callable[[], None]] = []


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener`` whenever a plugin row is written in this process: at once, and again
    when that write commits (a cache filled in between still saw the old row). For caches of
    what plugin rows say (a channel's routing table); other processes see a change when their
    cache expires."""
    _listeners.append(listener)


def _changed(_mapper: Any, _conn: Any, target: TenantPlugin) -> None:
    _notify()
    session = object_session(target)
    if session is not None:
        event.listen(session, "after_commit", lambda _s: _notify(), once=True)


def _notify() -> None:
    for listener in list(_listeners):
        listener()


for _name in ("after_insert", "after_update", "after_delete"):
    event.listen(TenantPlugin, _name, _changed)
