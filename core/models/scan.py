"""``tenant_scan_settings``: what a tenant wants done with a file when the scanner is down."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base


class TenantScanSettings(Base):
    """One row per tenant that changed the default (``refuse``: 503 on upload, 451 on mail);
    ``hold`` keeps such files unscanned and not downloadable until a rescan succeeds."""

    __tablename__ = "tenant_scan_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    when_down: Mapped[str] = mapped_column(String(10), default="refuse")
    updated_at: Mapped[datetime] = mapped_column(default=now)
