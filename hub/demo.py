"""The demo tenant ``hub run`` creates on an empty database, so a new user can sign in at once."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import func, select

from core.models import Tenant
from core.permissions import system_actor
from core.services import channel_keys, identity
from core.services import plugins as plugin_service
from hub.context import Hub
from hub.demo_content import seed_content

# Mail to this address, on the SMTP intake port, becomes a ticket of the demo tenant.
DEMO_SUPPORT_ADDRESS = "support@demo.example"


@dataclass
class DemoLogin:
    role: str
    email: str
    password: str
    token: str


LOGINS_FILE = "demo-logins.json"


def logins_path(hub: Hub) -> Path:
    """Where the demo logins are kept (the data directory, readable by its owner only)."""
    return Path(hub.settings.data_dir) / LOGINS_FILE


def saved_logins(hub: Hub) -> list[DemoLogin]:
    """The demo logins made on the first run, or [] (no demo, or the file was removed)."""
    try:
        rows = json.loads(logins_path(hub).read_text())
    except (OSError, ValueError):
        return []
    return [DemoLogin(**row) for row in rows if isinstance(row, dict)]


def _save_logins(hub: Hub, logins: list[DemoLogin]) -> None:
    path = logins_path(hub)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump([asdict(login) for login in logins], out, indent=1)


def seed_if_empty(hub: Hub) -> list[DemoLogin]:
    """Create tenant ``demo`` with an admin, an agent, a manager and an end user, its email
    channel taking mail for ``DEMO_SUPPORT_ADDRESS`` (with no outbound relay, nothing is mailed
    back until an admin sets ``relay_host``), and the demo content (``hub.demo_content``); []
    if any tenant exists. The logins are kept in the data directory for ``hub demo logins``."""
    with hub.session() as s:
        if s.scalar(select(func.count()).select_from(Tenant)):
            return []
        tenant = identity.create_tenant(s, slug="demo", name="Demo Company")
        logins = []
        for role, email in (
            ("admin", "admin@demo.example"),
            ("agent", "agent@demo.example"),
            ("manager", "manager@demo.example"),
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
        actors = {
            login.role: identity.actor_for(s, tenant.id, identity.ensure_user(s, email=login.email))
            for login in logins
        }
        seed_content(s, hub, actors["admin"], actors["agent"], actors["end_user"])
    _save_logins(hub, logins)
    return logins
