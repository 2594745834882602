"""Chat sessions and their messages, per tenant (the transcript is the list of messages)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.api import Base, BigId, JSONType, UTCDateTime

# Where a conversation stands: asking (waiting for a question), confirm (articles shown, did they
# help?), email (waiting for an address to open a ticket), ticket (talking to agents).
STATES = ("asking", "confirm", "email", "ticket")


class ChatSession(Base):
    """One visitor's conversation; the resume link carries a secret whose hash is stored."""

    __tablename__ = "chatbot_sessions"
    __table_args__ = (
        Index("ix_chatbot_sessions_tenant_ticket", "tenant_id", "ticket_id"),
        Index("ix_chatbot_sessions_tenant_address_created", "tenant_id", "address", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(20), default="asking")
    user_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("auth_user.id"), default=None)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    address: Mapped[str] = mapped_column(String(64), default="")
    ticket_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("support_tickets.id", ondelete="SET NULL"),
        default=None,
    )
    unanswered: Mapped[int] = mapped_column(Integer, default=0)
    offered: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    last_question: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChatMessage(Base):
    """One line of a transcript: said by the visitor (user), the bot, or an agent."""

    __tablename__ = "chatbot_messages"
    __table_args__ = (
        UniqueConstraint("session_id", "event_id"),
        Index("ix_chatbot_messages_session_id_id", "session_id", "id"),
        Index("ix_chatbot_messages_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("chatbot_sessions.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(10))
    author: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # The outbox event an agent's reply came from: delivering it twice stores it once.
    event_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
