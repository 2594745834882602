"""The sign-in page's "Sign in with ..." button for one organisation (``/login?org=SLUG``).

The sign-in page never lists which organisations use single sign-on (that would name the hub's
customers): the button appears only for the organisation the link names, and an unknown slug
looks exactly like one without SSO.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from core.models import Tenant
from core.services import security
from hub.context import Hub


def sso_button(hub: Hub, org: str) -> dict[str, Any] | None:
    """``{"label", "href"}`` of the organisation's SSO, or None (unknown, or no SSO)."""
    slug = org.strip().lower()
    if not slug:
        return None
    with hub.read_session() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == slug))
        row = security.active_sso(session, tenant_id) if tenant_id is not None else None
        if row is None:
            return None
        return {
            "label": row.label or "single sign-on",
            "href": "/login/sso?" + urlencode({"tenant": slug}),
        }
