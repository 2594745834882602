"""A tenant's API rate: ``Tenant.settings["api_rate_limit"]``, read and changed (audited).

The value is ``N/second``, ``N/minute`` or ``N/hour`` per token (``limits`` notation); unset,
the hub's default applies (``hub.api.rate_limit``).
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy.orm import Session

from core.errors import Invalid, NotFound
from core.models import Tenant
from core.permissions import Actor, require_admin
from core.services import audit

KEY = "api_rate_limit"
_RATE = re.compile(r"^([1-9][0-9]{0,6})/(second|minute|hour)$")


def normalize(value: str) -> str:
    """``"600 / Minute"`` -> ``"600/minute"``; ``Invalid`` for anything else."""
    cleaned = re.sub(r"\s+", "", value or "").lower()
    if not _RATE.match(cleaned):
        raise Invalid(
            "the rate must look like 600/minute (a number per second, minute or hour)",
            field="per_token",
        )
    return cleaned


def rate_of(session: Session, tenant_id: uuid.UUID) -> str | None:
    """The tenant's own rate, or None (the hub's default applies)."""
    tenant = session.get(Tenant, tenant_id)
    value = (tenant.settings or {}).get(KEY) if tenant is not None else None
    return value if isinstance(value, str) and _RATE.match(value) else None


def set_rate(session: Session, actor: Actor, value: str | None, *, ip: str = "") -> str | None:
    """Set the tenant's rate (None or "" goes back to the default); audited."""
    require_admin(actor, "change the API rate limit")
    new = normalize(value) if value else None
    tenant = session.get(Tenant, actor.tenant_id)
    if tenant is None:
        raise NotFound("no such tenant")
    settings = dict(tenant.settings or {})
    old = settings.get(KEY)
    if old == new:
        return new
    if new is None:
        settings.pop(KEY, None)
    else:
        settings[KEY] = new
    tenant.settings = settings
    audit.by_actor(session, actor, audit.RATELIMIT_CHANGED, ip=ip, details={"old": old, "new": new})
    return new
