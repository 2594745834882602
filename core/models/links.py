"""``auth_links``: signed links that let a person in (invitations, password resets, requesters'
sign-in links). The link carries a random token; only its SHA-256 is stored here."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId

PURPOSES = ("invitation", "password_reset", "signin")


class AuthLink(Base):
    """One link: whom it is for (a user, or only an address for an invitation), what it does,
    until when, and whether it was used or revoked."""

    __tablename__ = "auth_links"
    __table_args__ = (
        CheckConstraint(f"purpose IN {PURPOSES!r}", name="purpose"),
        Index("ix_auth_links_tenant_purpose", "tenant_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("auth_user.id", ondelete="CASCADE"), default=None, index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    # The role an invitation gives; the ticket a sign-in link opens.
    role: Mapped[str | None] = mapped_column(String(20), default=None)
    ticket_id: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("auth_user.id", ondelete="SET NULL"), default=None
    )
