"""Plugins' admin tables (``hub_admin_tables`` / ``hub_admin_action``): the data a plugin keeps
for a tenant that an admin reviews (parked mail, failing addresses), gathered from the plugins
the tenant enabled, and one action on one row, checked against what the table offers and
audited with its outcome."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.errors import Invalid, NotFound
from core.permissions import Actor, require_admin
from core.services import events
from core.types import AdminActionResult, AdminTable
from hub.context import Hub

log = logging.getLogger(__name__)


def tables(hub: Hub, actor: Actor) -> list[AdminTable]:
    """Every admin table of the tenant's enabled plugins; a plugin that fails is left out (and
    logged), never the whole page."""
    require_admin(actor, "review plugin data")
    found: list[AdminTable] = []
    for plugin, result, exc in hub.hooks(actor.tenant_id).each(
        "hub_admin_tables", {"tenant_id": actor.tenant_id, "hub": hub}
    ):
        if isinstance(exc, SQLAlchemyError):
            raise exc  # the database failed: an error answer (503), not a page without data
        if exc is not None:
            log.warning("admin tables of %s failed: %s", plugin, type(exc).__name__)
            continue
        found += [t for t in result or () if t.plugin == plugin]
    return found


def table(hub: Hub, actor: Actor, plugin: str, key: str) -> AdminTable:
    for t in tables(hub, actor):
        if t.plugin == plugin and t.key == key:
            return t
    raise NotFound(f"no table {key} of {plugin} for this tenant")


def act(
    hub: Hub, session: Session, actor: Actor, plugin: str, key: str, row_id: str, action: str
) -> AdminActionResult:
    """Do an action on a row the table lists and offers it on; audited (the tenant trail), the
    plugin's own change already committed by the plugin."""
    session.rollback()  # the plugin opens its own sessions (SQLite has one writer)
    found = table(hub, actor, plugin, key)
    row = next((r for r in found.rows if r.id == row_id), None)
    if row is None:
        raise NotFound(f"{found.title}: no row {row_id} (it may have gone already)")
    if action not in row.actions or action not in found.actions:
        offered = ", ".join(a for a in row.actions if a in found.actions) or "none"
        raise Invalid(f"{found.title}: this row offers {offered}", field="action")
    assert actor.user_id is not None
    try:
        result = hub.hooks(actor.tenant_id).hub_admin_action(
            plugin=plugin,
            tenant_id=actor.tenant_id,
            table=key,
            row_id=row_id,
            action=action,
            actor_id=actor.user_id,
            hub=hub,
        )
    except SQLAlchemyError:
        raise  # the database failed: an error answer (503), never "done"
    except Exception as exc:
        log.warning("admin action %s/%s/%s failed: %s", plugin, key, action, type(exc).__name__)
        result = AdminActionResult(False, f"The action failed: {type(exc).__name__}.")
    if result is None:
        result = AdminActionResult(False, f"{plugin} does not act on {found.title}.")
    events.audit(
        session,
        actor,
        action="Plugin Data Action",
        ticket_id=None,
        new=f"{plugin}/{key}/{action}",
        details={"row": row_id[:200], "ok": result.ok, "message": result.message[:500]},
    )
    return result
