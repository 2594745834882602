"""``mail_templates``: a tenant's own wording of a kind of mail; ``mail_signatures``: an agent's
signature under their replies (migration 0032_mail_templates)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId


class MailTemplate(Base):
    """One tenant's override of one kind's subject, text and (optional) HTML body."""

    __tablename__ = "mail_templates"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", name="uq_mail_templates_tenant_id_kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(500))
    text_body: Mapped[str] = mapped_column(Text)
    # None: the HTML part is made from the text (paragraphs, links).
    html_body: Mapped[str | None] = mapped_column(Text, default=None)
    updated_by: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("auth_user.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[datetime] = mapped_column(default=now)


class MailSignature(Base):
    """An agent's own signature in one tenant, appended to their replies by mail."""

    __tablename__ = "mail_signatures"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True
    )
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=now)
