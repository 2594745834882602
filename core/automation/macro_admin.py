"""The tenant's macros as admins edit them: names unique per tenant, a reply text or field
changes (or both), every change audited. Staff and managers read them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.automation import macros
from core.automation.rule_admin import name_free, refuse_nulls, tenant_audit
from core.clock import now
from core.errors import Invalid
from core.models import Macro
from core.permissions import Actor, require_admin, require_reader


def _checked_changes(body: str, changes: dict[str, Any]) -> dict[str, Any]:
    macros.check_placeholders(body)
    changes = macros.validate_changes(changes)
    if not body.strip() and not changes:
        raise Invalid("a macro needs a reply text or field changes", field="body")
    return changes


def list_macros(session: Session, actor: Actor, *, active_only: bool = False) -> list[Macro]:
    """The tenant's macros by name (``active_only``: the ones an agent can apply)."""
    require_reader(actor, "macros")
    stmt = select(Macro).where(Macro.tenant_id == actor.tenant_id)
    if active_only:
        stmt = stmt.where(Macro.is_active.is_(True))
    return list(session.scalars(stmt.order_by(Macro.name)))


def get_macro(session: Session, actor: Actor, macro_id: int) -> Macro:
    """One macro of the tenant."""
    require_reader(actor, "macros")
    return macros.get_macro(session, actor.tenant_id, macro_id)


def create_macro(session: Session, actor: Actor, fields: dict[str, Any]) -> Macro:
    """A new macro (``name``, ``body``, ``is_internal``, ``changes``, ``is_active``)."""
    require_admin(actor, "edit macros")
    changes = _checked_changes(fields["body"], fields["changes"])
    name_free(session, Macro, actor, fields["name"])
    at = now()
    row = Macro(
        tenant_id=actor.tenant_id,
        name=fields["name"],
        body=fields["body"],
        is_internal=fields["is_internal"],
        changes=changes,
        is_active=fields["is_active"],
        created_by=actor.user_id,
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    session.flush()
    tenant_audit(session, actor, "Macro Created", str(row.id), {"name": row.name})
    return row


def update_macro(session: Session, actor: Actor, macro_id: int, changes: dict[str, Any]) -> Macro:
    """Change the fields in ``changes``; the macro must still have a reply or field changes."""
    require_admin(actor, "edit macros")
    row = macros.get_macro(session, actor.tenant_id, macro_id)
    changes = dict(changes)
    refuse_nulls(changes, ("name", "body", "is_internal", "is_active"))
    if "name" in changes:
        name_free(session, Macro, actor, changes["name"], exclude=row.id)
    changes["changes"] = _checked_changes(
        changes.get("body", row.body), changes.get("changes", row.changes) or {}
    )
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = now()
    tenant_audit(session, actor, "Macro Changed", str(row.id), {"changes": sorted(changes)})
    return row


def delete_macro(session: Session, actor: Actor, macro_id: int) -> None:
    """Delete a macro; rules that send it stop doing so (their action fails, audited)."""
    require_admin(actor, "edit macros")
    row = macros.get_macro(session, actor.tenant_id, macro_id)
    tenant_audit(session, actor, "Macro Deleted", str(row.id), {"name": row.name})
    session.delete(row)
