"""A tenant's person-data settings, kept under ``tenants.settings["privacy"]``.

Every retention period is off (``None``) until an admin sets it; ``export_days`` is how long a
finished export archive is kept (its download link expires with it).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy.orm import Session

from core.errors import Invalid, NotFound
from core.models import Tenant
from core.permissions import Actor, require_admin

KEY = "privacy"
COMMENT_MODES = ("redact", "remove")
TICKET_ACTIONS = ("anonymise", "delete")
PERIODS = ("closed_ticket_days", "raw_mail_days", "parked_mail_days", "audit_years")


@dataclass(frozen=True)
class Policy:
    """What erasure does with a person's own text, and how long each kind of data is kept."""

    comment_erasure: str = "redact"
    export_days: int = 7
    closed_ticket_days: int | None = None
    closed_ticket_action: str = "anonymise"
    raw_mail_days: int | None = None
    parked_mail_days: int | None = None
    audit_years: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _days(name: str, value: Any, *, minimum: int = 1) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Invalid(f"{name} must be a whole number", field=name) from None
    if not minimum <= number <= 36500:
        raise Invalid(f"{name} must be between {minimum} and 36500", field=name)
    return number


def parse(values: dict[str, Any], base: Policy | None = None) -> Policy:
    """A policy from user input over ``base``; unknown keys and bad values are ``Invalid``."""
    known = {f.name for f in fields(Policy)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise Invalid(f"unknown setting {unknown[0]!r}", field=unknown[0])
    merged = {**(base or Policy()).as_dict(), **values}
    if merged["comment_erasure"] not in COMMENT_MODES:
        raise Invalid("comment_erasure is redact or remove", field="comment_erasure")
    if merged["closed_ticket_action"] not in TICKET_ACTIONS:
        raise Invalid("closed_ticket_action is anonymise or delete", field="closed_ticket_action")
    export_days = _days("export_days", merged["export_days"])
    if export_days is None:
        raise Invalid("export_days is required", field="export_days")
    return Policy(
        comment_erasure=merged["comment_erasure"],
        export_days=export_days,
        closed_ticket_action=merged["closed_ticket_action"],
        **{name: _days(name, merged[name]) for name in PERIODS},
    )


def get(session: Session, tenant_id: uuid.UUID) -> Policy:
    """The tenant's policy (defaults for what it never set)."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("no such tenant")
    stored = (tenant.settings or {}).get(KEY) or {}
    try:
        return parse(stored)
    except Invalid:
        return Policy()


def save(session: Session, actor: Actor, values: dict[str, Any]) -> Policy:
    """Change the tenant's policy (admins); returns the new one."""
    require_admin(actor, "change data retention")
    tenant = session.get(Tenant, actor.tenant_id)
    if tenant is None:
        raise NotFound("no such tenant")
    policy = parse(values, get(session, actor.tenant_id))
    tenant.settings = {**(tenant.settings or {}), KEY: policy.as_dict()}
    return policy
