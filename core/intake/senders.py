"""Who sent an inbound message, and whether they may add to the ticket it threads onto.

A first-time sender becomes a user and an end user of the tenant. Whatever threading matched,
only the requester, the tenant's staff or a known participant may add to a ticket: anyone else
opens a new one.
"""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Invalid
from core.intake.message import InboundMessage
from core.models import Comment, ExternalRef, Membership, Ticket, User
from core.organisations.service import join_by_address
from core.permissions import ADMIN, AGENT, END_USER

_SENDERS = (
    select(User, Membership.tenant_id, Membership.role)
    .outerjoin(
        Membership,
        (Membership.user_id == User.id)
        & Membership.tenant_id.in_(bindparam("tenants", expanding=True)),
    )
    .where(func.lower(User.email).in_(bindparam("emails", expanding=True)))
)


def mailbox(address: str) -> str:
    """An inbound sender's address as stored: any RFC 5321 mailbox the channel accepted (a
    dotless host like ``root@localhost``, a quoted local part, an internationalised domain),
    its domain lower-cased. Sign-up addresses are checked more strictly
    (``identity.normalize_email``); a sender only has to be someone we can answer."""
    address = (address or "").strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(c in address for c in "\r\n\x00"):
        raise Invalid(f"{address!r} is not an email address", field="email")
    return f"{local}@{domain.lower()}"


class Senders:
    """The senders of a batch with their roles, read in one query, and those it created."""

    def __init__(self, users: dict[str, User], roles: dict[tuple[int, uuid.UUID], str]) -> None:
        self.users = users
        self.roles = roles

    @classmethod
    def fetch(cls, session: Session, items: list[tuple[uuid.UUID, InboundMessage]]) -> Senders:
        emails = sorted({m.sender_email.strip().lower() for _, m in items if m.sender_email})
        users: dict[str, User] = {}
        roles: dict[tuple[int, uuid.UUID], str] = {}
        if emails:
            tenants = sorted({tenant_id for tenant_id, _ in items})
            for user, member_tenant, role in session.execute(
                _SENDERS, {"tenants": tenants, "emails": emails}
            ):
                users[user.email.lower()] = user
                if role is not None:
                    roles[(user.id, member_tenant)] = role
        return cls(users, roles)

    def sender(
        self, session: Session, tenant_id: uuid.UUID, msg: InboundMessage
    ) -> tuple[User, str]:
        """The sender and their role; a first-time sender becomes a user and an end user here."""
        email = mailbox(msg.sender_email or "")
        user = self.users.get(email.lower())
        if user is None:
            user = User(
                email=email,
                full_name=msg.sender_name or email.split("@")[0],
                password=None,
                is_active=True,
                date_joined=now(),
            )
            session.add(user)
            session.flush()
            self.users[email.lower()] = user
        role = self.roles.get((user.id, tenant_id))
        if role is None:
            session.add(
                Membership(
                    tenant_id=tenant_id,
                    user_id=user.id,
                    role=END_USER,
                    skills={},
                    available=True,
                    created_at=now(),
                )
            )
            role = self.roles[(user.id, tenant_id)] = END_USER
            join_by_address(session, tenant_id, user.id, user.email)
        return user, role


def may_add_to(session: Session, ticket: Ticket, user: User, role: str | None) -> bool:
    """Requester, staff and participants (earlier commenters, CCs on record) may add to a ticket."""
    if user.id == ticket.created_by or role in (AGENT, ADMIN):
        return True
    if session.scalar(
        select(Comment.id)
        .where(Comment.ticket_id == ticket.id, Comment.user_id == user.id)
        .limit(1)
    ):
        return True
    return bool(
        session.scalar(
            select(ExternalRef.id)
            .where(
                ExternalRef.tenant_id == ticket.tenant_id,
                ExternalRef.ticket_id == ticket.id,
                ExternalRef.kind == "participant",
                ExternalRef.value == user.email.lower(),
            )
            .limit(1)
        )
    )
