"""``support_tags`` and ``support_ticket_tags`` (migration ``0041_tags_fields``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId

_TicketId = BigInteger().with_variant(Integer(), "sqlite")


class Tag(Base):
    """A tenant's tag; ``name`` is normalised (``core.tags.service.normalise``), unique per tenant."""

    __tablename__ = "support_tags"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=now)


class TicketTag(Base):
    """A tag on a ticket. The key (ticket_id, tag_id) loads a page's tags; the index
    (tag_id, ticket_id) serves the queue's ``?tag=`` filter and the usage counts."""

    __tablename__ = "support_ticket_tags"
    __table_args__ = (Index("ix_support_ticket_tags_tag_ticket", "tag_id", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(
        _TicketId, ForeignKey("support_tickets.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        _TicketId, ForeignKey("support_tags.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
