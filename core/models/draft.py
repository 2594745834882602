"""``support_reply_drafts``: the reply a person is typing on a ticket, kept as they type."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId


class ReplyDraft(Base):
    """One draft per person, tenant and ticket: the message and who it is for (public reply or
    internal note). Private to its author; deleted when the reply is sent or the person erased."""

    __tablename__ = "support_reply_drafts"
    __table_args__ = (
        Index(
            "uq_support_reply_drafts_tenant_user_ticket",
            "tenant_id",
            "user_id",
            "ticket_id",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("auth_user.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("support_tickets.id", ondelete="CASCADE"),
    )
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10), default="public")
    updated_at: Mapped[datetime] = mapped_column(default=now)
