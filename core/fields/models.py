"""``support_custom_fields`` and ``support_ticket_field_values`` (migration ``0041_tags_fields``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId, JSONType

FIELD_TYPES = ("text", "number", "date", "dropdown", "multiselect", "checkbox")
_TicketId = BigInteger().with_variant(Integer(), "sqlite")


class CustomField(Base):
    """A tenant's custom field. ``key`` names it in the API (``custom_fields: {key: value}``);
    ``options`` are the choices of a drop-down or multi-select; ``required_categories`` the
    ticket categories for which a value is required; ``show_on_ticket`` / ``show_on_portal`` say
    where the console shows it; ``position`` orders them; an inactive field is kept with its
    values but neither shown nor accepted."""

    __tablename__ = "support_custom_fields"
    __table_args__ = (
        UniqueConstraint("tenant_id", "key"),
        CheckConstraint(
            "type IN (" + ", ".join(f"'{t}'" for t in FIELD_TYPES) + ")", name="field_type"
        ),
        Index("ix_support_custom_fields_tenant_position", "tenant_id", "position"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(20))
    options: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    required_categories: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    show_on_ticket: Mapped[bool] = mapped_column(Boolean, default=True)
    show_on_portal: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)


class TicketFieldValue(Base):
    """One ticket's value of one field: ``value`` as typed (JSON), ``value_text`` its text form
    for filters and search (multi-select: the options joined by ``|`` with ``|`` at both ends)."""

    __tablename__ = "support_ticket_field_values"
    __table_args__ = (
        Index("ix_support_ticket_field_values_field_text", "field_id", "value_text", "ticket_id"),
    )

    ticket_id: Mapped[int] = mapped_column(
        _TicketId, ForeignKey("support_tickets.id", ondelete="CASCADE"), primary_key=True
    )
    field_id: Mapped[int] = mapped_column(
        _TicketId, ForeignKey("support_custom_fields.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    value_text: Mapped[str] = mapped_column(String(500), default="")
