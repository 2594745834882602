"""A plugin's settings form, built from its settings model's JSON schema, and the parsing back.

Secret fields are write-only: the form shows whether one is set, never its value; leaving the
field empty keeps the stored secret, and a "clear" box removes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from core.errors import Invalid


@dataclass
class Field:
    """One input of the settings form."""

    name: str
    label: str
    kind: str  # text | secret | bool | int | number | select | list | json
    help: str = ""
    required: bool = False
    value: Any = None
    choices: list[str] = field(default_factory=list)
    is_set: bool = False
    error: str = ""


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and pick the non-null branch of ``Optional[...]``."""
    if "$ref" in prop:
        prop = {
            **defs.get(prop["$ref"].split("/")[-1], {}),
            **{k: v for k, v in prop.items() if k != "$ref"},
        }
    for key in ("anyOf", "oneOf"):
        if key in prop:
            branches = [b for b in prop[key] if b.get("type") != "null"]
            if len(branches) == 1:
                merged = {k: v for k, v in prop.items() if k != key}
                return {**_resolve(branches[0], defs), **merged}
    if "allOf" in prop and len(prop["allOf"]) == 1:
        return {
            **_resolve(prop["allOf"][0], defs),
            **{k: v for k, v in prop.items() if k != "allOf"},
        }
    return prop


def _kind(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return "select"
    kind = prop.get("type")
    if kind == "boolean":
        return "bool"
    if kind == "integer":
        return "int"
    if kind == "number":
        return "number"
    if kind == "array" and prop.get("items", {}).get("type", "string") == "string":
        return "list"
    if kind == "string":
        return "text"
    return "json"


def build_fields(plugin: dict[str, Any]) -> list[Field]:
    """The inputs for one plugin as described by ``hub.plugin_admin.describe``."""
    schema = plugin.get("settings_schema") or {}
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    secrets = set(plugin.get("secret_fields", []))
    current = plugin.get("settings", {})
    out = []
    for name, raw in (schema.get("properties") or {}).items():
        prop = _resolve(raw, defs)
        kind = "secret" if name in secrets or prop.get("writeOnly") else _kind(prop)
        value = None if kind == "secret" else current.get(name, prop.get("default"))
        if kind == "list" and isinstance(value, list):
            value = "\n".join(str(v) for v in value)
        elif kind == "json" and value is not None:
            value = json.dumps(value, indent=2)
        out.append(
            Field(
                name=name,
                label=prop.get("title") or name.replace("_", " ").capitalize(),
                kind=kind,
                help=prop.get("description", ""),
                required=name in required,
                value=value,
                choices=[str(c) for c in prop.get("enum", [])],
                is_set=name in plugin.get("secrets_set", []),
            )
        )
    return out


def parse_form(fields: list[Field], form: FormData) -> dict[str, Any]:
    """The settings to store from a submitted form (secrets only when typed or cleared)."""
    values: dict[str, Any] = {}
    for f in fields:
        key = f"setting_{f.name}"
        raw = str(form.get(key, "") or "")
        if f.kind == "secret":
            if form.get(f"clear_{f.name}"):
                values[f.name] = ""
            elif raw:
                values[f.name] = raw
        elif f.kind == "bool":
            values[f.name] = raw == "on"
        elif f.kind in ("int", "number"):
            if raw.strip():
                try:
                    values[f.name] = int(raw) if f.kind == "int" else float(raw)
                except ValueError:
                    raise Invalid(f"{f.label} must be a number", field=f.name) from None
        elif not raw.strip() and f.value in (None, ""):
            continue  # an optional field left empty stays unset (None is not "")
        elif f.kind == "list":
            values[f.name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif f.kind == "json":
            if raw.strip():
                try:
                    values[f.name] = json.loads(raw)
                except ValueError:
                    raise Invalid(f"{f.label} must be valid JSON", field=f.name) from None
        else:
            values[f.name] = raw
    return values


def keep_submitted(fields: list[Field], form: FormData, where: str | None, message: str) -> None:
    """After a refused save: each field shows what was typed (never a secret), and the field
    the error names (``where``: a field name, or ``name.0`` inside a list) carries the error."""
    name = (where or "").split(".", 1)[0]
    for f in fields:
        if f.kind == "secret":
            pass
        elif f.kind == "bool":
            f.value = form.get(f"setting_{f.name}") == "on"
        else:
            f.value = str(form.get(f"setting_{f.name}", "") or "")
        if f.name == name:
            f.error = message
