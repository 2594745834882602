"""The demo tenant ``hub run`` creates on an empty database, so a new user can sign in at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select

from core.models import Tenant
from core.permissions import system_actor
from core.services import channel_keys, identity
from core.services import plugins as plugin_service
from hub.context import Hub

# Mail to this address, on the SMTP intake port, becomes a ticket of the demo tenant.
DEMO_SUPPORT_ADDRESS = "support@demo.example"


@dataclass
class DemoLogin:
    role: str
    email: str
    password: str
    token: str


def seed_if_empty(hub: Hub) -> list[DemoLogin]:
    """Create tenant ``demo`` with an admin, an agent and an end user, and its email channel
    taking mail for ``DEMO_SUPPORT_ADDRESS`` (with no outbound relay, nothing is mailed back
    until an admin sets ``relay_host``); [] if any tenant exists."""
    with hub.session() as s:
        if s.scalar(select(func.count()).select_from(Tenant)):
            return []
        tenant = identity.create_tenant(s, slug="demo", name="Demo Company")
        logins = []
        for role, email in (
            ("admin", "admin@demo.example"),
            ("agent", "agent@demo.example"),
            ("end_user", "user@demo.example"),
        ):
            password = secrets.token_urlsafe(9)
            user = identity.ensure_user(
                s, email=email, full_name=role.replace("_", " ").title(), password=password
            )
            identity.ensure_member(s, tenant.id, user, role)
            token = identity.create_token(s, tenant.id, user, name="demo")
            logins.append(DemoLogin(role=role, email=email, password=password, token=token))
        if "email" in hub.installed():
            system = system_actor(tenant.id)
            plugin_service.set_enabled(s, system, "email", True)
            plugin_service.configure(
                s,
                system,
                "email",
                keyring=hub.keyring,
                secrets={},
                settings={"addresses": [DEMO_SUPPORT_ADDRESS]},
            )
            # The operator's own demo: its address is verified on the operator's word.
            channel_keys.mark_verified(s, tenant.id, "email", DEMO_SUPPORT_ADDRESS)
        return logins
