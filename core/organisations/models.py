"""Organisations (the customer companies a tenant serves), their email domains, and which
organisation each person belongs to in a tenant (migration ``0042_organisations``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId


class Organisation(Base):
    """One customer company of a tenant."""

    __tablename__ = "support_organisations"
    __table_args__ = (Index("ix_support_organisations_tenant_name", "tenant_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)


class OrganisationDomain(Base):
    """An email domain of an organisation: unique per tenant (one company owns a domain)."""

    __tablename__ = "support_organisation_domains"
    __table_args__ = (UniqueConstraint("tenant_id", "domain"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("support_organisations.id", ondelete="CASCADE"), index=True
    )
    domain: Mapped[str] = mapped_column(String(253))


class OrganisationPerson(Base):
    """A person's organisation in one tenant (people belong to several tenants; the link is
    per tenant). ``how``: ``domain`` (joined by their address) or ``manual`` (set by staff)."""

    __tablename__ = "support_organisation_people"
    __table_args__ = (Index("ix_support_organisation_people_org", "organisation_id", "user_id"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("support_organisations.id", ondelete="CASCADE")
    )
    how: Mapped[str] = mapped_column(String(10), default="domain")
    joined_at: Mapped[datetime] = mapped_column(default=now)


__all__ = ["Organisation", "OrganisationDomain", "OrganisationPerson"]
