"""Configure a plugin for a tenant: validate against its settings model, split out secrets."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from core.errors import Invalid, NotFound
from core.permissions import Actor, require_admin
from core.services import channel_keys
from core.services import plugins as plugin_service
from core.types import ConnectionCheck
from hub.context import Hub

log = logging.getLogger(__name__)

UNDECRYPTABLE = (
    "The stored secrets cannot be decrypted with this hub's secret keys (the key that "
    "encrypted them was removed). The operator can add it back to HUB_SECRET_KEYS, or enter "
    "the secrets again."
)


def _info(hub: Hub, name: str) -> Any:
    info = hub.infos.get(name)
    if info is None or name in hub.builtin_names:
        raise NotFound(f"no installed plugin {name}")
    return info


def describe(hub: Hub, session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Every installed plugin with this tenant's state; secrets only named, never shown."""
    rows = plugin_service.plugin_rows(session, actor.tenant_id)
    out = []
    for name in hub.installed():
        info = hub.infos[name]
        row = rows.get(name)
        cipher = row.secrets_encrypted if row else None
        unreadable = not hub.keyring.can_decrypt(cipher)
        secrets = [] if unreadable else sorted(hub.keyring.decrypt_json(cipher))
        model = info.settings_model
        schema = model.model_json_schema() if model is not None else None
        settings = {
            k: v for k, v in (row.settings if row else {}).items() if k not in info.secret_fields
        }
        claims = (
            channel_keys.claims_of(session, actor.tenant_id, name)
            if info.channel_keys is not None
            else []
        )
        out.append(
            {
                "name": name,
                "title": info.title,
                "description": info.description,
                "capabilities": [str(c) for c in info.capabilities],
                "enabled": bool(row and row.enabled),
                "settings": settings,
                "secrets_set": secrets,
                # Stored secrets no key of the hub decrypts: an error, never "not set".
                "secrets_error": UNDECRYPTABLE if unreadable else None,
                "secret_fields": list(info.secret_fields),
                "settings_schema": schema,
                "channel_keys": [
                    {"key": c.key, "verified": c.verified, "contested": c.contested} for c in claims
                ],
                "can_test": name in _checkable(hub),
                "endpoints": [
                    {
                        "label": e.label,
                        "address": (
                            f"{hub.settings.smtp_host}:{hub.settings.smtp_port}"
                            if e.smtp
                            else f"{hub.base_url.rstrip('/')}{e.path}"
                        ),
                        "help": e.help,
                    }
                    for e in info.endpoints
                ],
            }
        )
    return out


def set_enabled(hub: Hub, session: Session, actor: Actor, name: str, enabled: bool) -> None:
    _info(hub, name)
    plugin_service.set_enabled(session, actor, name, enabled)


def configure(
    hub: Hub, session: Session, actor: Actor, name: str, values: dict[str, Any]
) -> list[channel_keys.Claim]:
    """Validate the merged settings with the plugin's model and store them, secrets encrypted.

    The plugin's inbound keys (support addresses, a team id) are claimed in the same
    transaction (``core.services.channel_keys``): a key another tenant owns is a ``Conflict``.
    Returns the claims made; those still to be proved by mail carry their secret, for
    ``key_verification.send_all`` once the caller has committed.
    """
    info = _info(hub, name)
    model: type[BaseModel] | None = info.settings_model
    current = plugin_service.load_config(session, actor.tenant_id, name, hub.keyring)
    if model is not None:
        unknown = sorted(set(values) - set(model.model_fields))
        if unknown:
            raise Invalid(f"unknown settings: {', '.join(unknown)}", field=unknown[0])
        merged = {
            **current.settings,
            **current.secrets,
            **{k: v for k, v in values.items() if v is not None},
        }
        try:
            parsed = model.model_validate(merged, context={"egress": hub.egress})
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err.get("loc", ()))
            raise Invalid(f"{where}: {err.get('msg')}", field=where or None) from None
        clean = parsed.model_dump(mode="json")
        values = {k: clean.get(k, v) for k, v in values.items()}
    secret_values = {k: v for k, v in values.items() if k in info.secret_fields}
    plain = {k: v for k, v in values.items() if k not in info.secret_fields}
    row = plugin_service.configure(
        session, actor, name, settings=plain, secrets=secret_values, keyring=hub.keyring
    )
    if info.channel_keys is None:
        return []
    return channel_keys.sync(
        session,
        actor.tenant_id,
        name,
        info.channel_keys.of(row.settings),
        proof=info.channel_keys.proof,
        label=info.channel_keys.label,
    )


def resend_verification(
    hub: Hub, session: Session, actor: Actor, name: str, key: str
) -> channel_keys.Claim:
    """A new secret for a pending claim; the caller commits, then sends it."""
    _info(hub, name)
    require_admin(actor, "manage plugins")
    return channel_keys.renew(session, actor.tenant_id, name, key)


def _checkable(hub: Hub) -> set[str]:
    """The plugins that implement ``hub_check_connection``."""
    return {impl.plugin_name for impl in hub.pm.hook.hub_check_connection.get_hookimpls()}


def check_connection(hub: Hub, session: Session, actor: Actor, name: str) -> ConnectionCheck:
    """Run an integration's connection check with the tenant's stored settings (admins)."""
    require_admin(actor, "test integrations")
    if name not in hub.installed():
        raise NotFound(f"no installed plugin {name}")
    session.rollback()  # the check opens its own sessions (SQLite has one writer)
    try:
        found = hub.pm.hook.hub_check_connection(plugin=name, tenant_id=actor.tenant_id, hub=hub)
    except Exception as exc:  # a check must not raise; say what happened, never a secret
        log.warning("connection check of %s failed: %s", name, type(exc).__name__)
        return ConnectionCheck(False, f"The check itself failed: {type(exc).__name__}.")
    if found is None:
        return ConnectionCheck(False, f"{hub.infos[name].title} has no connection test.")
    return found
