"""Inbound channel keys: which tenant a support address, Slack workspace or Teams app belongs to."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId

# Only a verified claim owns its key; pending claims of several tenants may coexist until one
# proves control. The partial unique index is what makes ownership atomic: two tenants saving
# at once cannot both own a key, whatever order their transactions run in.
_VERIFIED = text("verified_at IS NOT NULL")


class ChannelKey(Base):
    """One tenant's claim of one inbound key of a plugin (``email``: an address, ``slack``: a
    team id, ``teams``: an app id). ``verified_at`` is set once the claim is proved; only then
    does inbound traffic for the key reach the tenant."""

    __tablename__ = "support_channel_keys"
    __table_args__ = (
        UniqueConstraint("tenant_id", "plugin", "key"),
        Index(
            "uq_support_channel_keys_owner",
            "plugin",
            "key",
            unique=True,
            sqlite_where=_VERIFIED,
            postgresql_where=_VERIFIED,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    plugin: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(320))
    # sha256 of the secret sent to the key for a pending claim; never the secret itself.
    token_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=now)
