"""The four roles of spec section 2 and what each may do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from core.errors import Forbidden

END_USER, AGENT, ADMIN, MANAGER = "end_user", "agent", "admin", "manager"
ROLES = (END_USER, AGENT, ADMIN, MANAGER)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting, in which tenant, with which role. ``user_id`` None means the system."""

    tenant_id: uuid.UUID
    user_id: int | None
    role: str
    email: str = ""
    name: str = ""

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    @property
    def is_staff(self) -> bool:
        """Agents and admins work tickets; the system acts with their powers."""
        return self.role in (AGENT, ADMIN) or self.is_system

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN or self.is_system

    @property
    def reads_all_tickets(self) -> bool:
        """Agents, admins and managers see every ticket of the tenant."""
        return self.role in (AGENT, ADMIN, MANAGER) or self.is_system

    @property
    def sees_internal(self) -> bool:
        """End users never see internal notes."""
        return self.role != END_USER


def system_actor(tenant_id: uuid.UUID) -> Actor:
    """The actor for automation, SLA sweeps and inbound channels acting on their own."""
    return Actor(tenant_id=tenant_id, user_id=None, role=ADMIN, name="system")


def require_staff(actor: Actor, what: str) -> None:
    if not actor.is_staff:
        raise Forbidden(f"only agents and admins may {what}")


def require_admin(actor: Actor, what: str) -> None:
    if not actor.is_admin:
        raise Forbidden(f"only admins may {what}")


def require_writer(actor: Actor) -> None:
    """Managers read and never change anything."""
    if actor.role == MANAGER:
        raise Forbidden("managers have read-only access")


def require_reader(actor: Actor, what: str) -> None:
    """Settings that shape every ticket (rules, macros, SLA policies) are read by the staff and
    managers, never by end users."""
    if not actor.reads_all_tickets:
        raise Forbidden(f"{what} are for agents, admins and managers")
