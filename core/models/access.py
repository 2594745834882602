"""Access policy tables: a tenant's single sign-on and two-factor settings, and people's TOTP
secrets with their recovery codes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId, JSONType


class TenantSecurity(Base):
    """One tenant's OpenID Connect provider (the client secret encrypted with the hub keyring)
    and whether its staff must use it, or must use two-factor."""

    __tablename__ = "tenant_security"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    sso_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    issuer: Mapped[str] = mapped_column(String(500), default="")
    client_id: Mapped[str] = mapped_column(String(255), default="")
    client_secret_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    label: Mapped[str] = mapped_column(String(100), default="")
    allowed_domains: Mapped[list[str]] = mapped_column(JSONType, default=list)
    default_role: Mapped[str] = mapped_column(String(20), default="end_user")
    require_sso_for_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    require_two_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=now)


class TwoFactor(Base):
    """A person's TOTP secret (encrypted); active once ``confirmed_at`` is set by a first code.
    ``last_step`` is the newest 30-second step a code was accepted for (no replay)."""

    __tablename__ = "user_two_factor"

    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True
    )
    secret_encrypted: Mapped[str] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_step: Mapped[int] = mapped_column(BigId, default=0)
    created_at: Mapped[datetime] = mapped_column(default=now)


class RecoveryCode(Base):
    """One single-use recovery code of a person, stored as its SHA-256."""

    __tablename__ = "two_factor_recovery_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(default=None)


__all__ = ["RecoveryCode", "TenantSecurity", "TwoFactor"]
