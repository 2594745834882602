"""Configure a plugin for a tenant: validate against its settings model, split out secrets."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from core.errors import Invalid, NotFound
from core.permissions import Actor
from core.services import plugins as plugin_service
from hub.context import Hub


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
        secrets = sorted(hub.keyring.decrypt_json(row.secrets_encrypted)) if row else []
        model = info.settings_model
        schema = model.model_json_schema() if model is not None else None
        settings = {k: v for k, v in (row.settings if row else {}).items()
                    if k not in info.secret_fields}
        out.append({"name": name, "title": info.title, "description": info.description,
                    "capabilities": [str(c) for c in info.capabilities],
                    "enabled": bool(row and row.enabled), "settings": settings,
                    "secrets_set": secrets, "secret_fields": list(info.secret_fields),
                    "settings_schema": schema})
    return out


def set_enabled(hub: Hub, session: Session, actor: Actor, name: str, enabled: bool) -> None:
    _info(hub, name)
    plugin_service.set_enabled(session, actor, name, enabled)


def configure(hub: Hub, session: Session, actor: Actor, name: str, values: dict[str, Any]) -> None:
    """Validate the merged settings with the plugin's model and store them, secrets encrypted."""
    info = _info(hub, name)
    model: type[BaseModel] | None = info.settings_model
    current = plugin_service.load_config(session, actor.tenant_id, name, hub.keyring)
    if model is not None:
        unknown = sorted(set(values) - set(model.model_fields))
        if unknown:
            raise Invalid(f"unknown settings: {', '.join(unknown)}", field=unknown[0])
        merged = {**current.settings, **current.secrets,
                  **{k: v for k, v in values.items() if v is not None}}
        try:
            parsed = model.model_validate(merged)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err.get("loc", ()))
            raise Invalid(f"{where}: {err.get('msg')}", field=where or None) from None
        clean = parsed.model_dump(mode="json")
        values = {k: clean.get(k, v) for k, v in values.items()}
    secret_values = {k: v for k, v in values.items() if k in info.secret_fields}
    plain = {k: v for k, v in values.items() if k not in info.secret_fields}
    plugin_service.configure(session, actor, name, settings=plain, secrets=secret_values,
                             keyring=hub.keyring)
