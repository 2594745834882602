"""``person_locale``: a person's language and time zone, chosen on the account page, and what
their browser last told (migration 0045_person_locale)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base


class PersonLocale(Base):
    """One person's locale and zone (None: follow the browser, then the tenant's default)."""

    __tablename__ = "person_locale"

    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True
    )
    locale: Mapped[str | None] = mapped_column(String(16), default=None)
    time_zone: Mapped[str | None] = mapped_column(String(64), default=None)
    # What the browser said (Accept-Language, Intl's time zone) until the person chooses.
    browser_locale: Mapped[str | None] = mapped_column(String(16), default=None)
    browser_time_zone: Mapped[str | None] = mapped_column(String(64), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=now)
