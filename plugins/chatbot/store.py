"""Chat sessions and transcripts in the database: create, find by resume token, append, count."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from core.api import PersonRecord, TenantRef, find_tenant, now
from plugins.chatbot.models import ChatMessage, ChatSession

ROLE_LABELS = {"user": "Visitor", "bot": "Bot", "agent": "Agent"}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tenant_by_slug(session: Session, slug: str) -> TenantRef | None:
    """The tenant a widget names with ``?tenant=<slug>``."""
    if not slug or len(slug) > 63:
        return None
    return find_tenant(session, slug)


def create_session(session: Session, tenant_id: uuid.UUID, address: str) -> tuple[ChatSession, str]:
    """A new conversation and its secret resume token (only the hash is kept)."""
    token = secrets.token_urlsafe(24)
    at = now()
    row = ChatSession(
        tenant_id=tenant_id,
        token_hash=hash_token(token),
        state="asking",
        address=address[:64],
        unanswered=0,
        offered=[],
        last_question="",
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    session.flush()
    return row, token


def find_session(session: Session, tenant_id: uuid.UUID, token: str) -> ChatSession | None:
    """The tenant's conversation behind a resume token."""
    if not token or len(token) > 100:
        return None
    return session.scalar(
        select(ChatSession).where(
            ChatSession.tenant_id == tenant_id, ChatSession.token_hash == hash_token(token)
        )
    )


def add_message(
    session: Session,
    chat: ChatSession,
    role: str,
    text: str,
    *,
    data: dict[str, Any] | None = None,
    author: str = "",
    event_id: int | None = None,
) -> ChatMessage:
    """Append one line to the transcript."""
    row = ChatMessage(
        tenant_id=chat.tenant_id,
        session_id=chat.id,
        role=role,
        text=text,
        author=author[:200],
        data=data or {},
        event_id=event_id,
        created_at=now(),
    )
    session.add(row)
    chat.updated_at = row.created_at
    session.flush()
    return row


def messages_after(session: Session, chat_id: int, after_id: int) -> list[ChatMessage]:
    """The transcript lines newer than ``after_id``, oldest first."""
    return list(
        session.scalars(
            select(ChatMessage)
            .where(ChatMessage.session_id == chat_id, ChatMessage.id > after_id)
            .order_by(ChatMessage.id)
        )
    )


def recent_user_messages(session: Session, chat: ChatSession, *, by_address: bool) -> int:
    """Visitor messages in the last minute, in this session or from its address."""
    since = now() - timedelta(minutes=1)
    stmt = (
        select(func.count())
        .select_from(ChatMessage)
        .where(
            ChatMessage.tenant_id == chat.tenant_id,
            ChatMessage.role == "user",
            ChatMessage.created_at >= since,
        )
    )
    if by_address:
        stmt = stmt.join(ChatSession, ChatSession.id == ChatMessage.session_id).where(
            ChatSession.address == chat.address
        )
    else:
        stmt = stmt.where(ChatMessage.session_id == chat.id)
    return int(session.scalar(stmt) or 0)


def recent_sessions(session: Session, tenant_id: uuid.UUID, address: str) -> int:
    """Conversations started from an address in the last hour."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(ChatSession)
            .where(
                ChatSession.tenant_id == tenant_id,
                ChatSession.address == address[:64],
                ChatSession.created_at >= now() - timedelta(hours=1),
            )
        )
        or 0
    )


def transcript(session: Session, chat: ChatSession) -> str:
    """The conversation as plain text, for the ticket's description."""
    lines = [f"Chat transcript (web chatbot, started {chat.created_at:%Y-%m-%d %H:%M} UTC)", ""]
    for m in messages_after(session, chat.id, 0):
        lines.append(
            f"[{m.created_at:%H:%M}] {m.author or ROLE_LABELS.get(m.role, m.role)}: {m.text}"
        )
        for article in m.data.get("articles", []):
            lines.append(f"    - {article['title']} <{article['url']}>")
    return "\n".join(lines)


def sessions_for_ticket(
    session: Session, tenant_id: uuid.UUID, ticket_id: int
) -> list[ChatSession]:
    """Conversations that handed over to a ticket."""
    return list(
        session.scalars(
            select(ChatSession).where(
                ChatSession.tenant_id == tenant_id, ChatSession.ticket_id == ticket_id
            )
        )
    )


def has_event(session: Session, chat_id: int, event_id: int) -> bool:
    return (
        session.scalar(
            select(ChatMessage.id).where(
                ChatMessage.session_id == chat_id, ChatMessage.event_id == event_id
            )
        )
        is not None
    )


def public(m: ChatMessage) -> dict[str, Any]:
    """A transcript line as the widget receives it (plain text: the widget never parses HTML)."""
    out = {
        "type": "message",
        "id": m.id,
        "role": m.role,
        "author": m.author,
        "text": m.text,
        "articles": m.data.get("articles", []),
        "choices": m.data.get("choices", []),
        "at": m.created_at.isoformat(),
    }
    out.update({k: m.data[k] for k in ("ticket_id", "resume_url") if k in m.data})
    return out


def sessions_of_person(session: Session, tenant_id: uuid.UUID, email: str) -> list[ChatSession]:
    """The tenant's conversations in which the visitor gave (or signed in with) this address."""
    return list(
        session.scalars(
            select(ChatSession)
            .where(
                ChatSession.tenant_id == tenant_id,
                func.lower(ChatSession.email) == email.strip().lower(),
            )
            .order_by(ChatSession.id)
        )
    )


def person_records(session: Session, tenant_id: uuid.UUID, email: str) -> list[PersonRecord]:
    """A person's conversations and every line of their transcripts, for a data export."""
    out: list[PersonRecord] = []
    for chat in sessions_of_person(session, tenant_id, email):
        out.append(
            PersonRecord(
                plugin="chatbot",
                kind="chat_session",
                id=str(chat.id),
                created_at=chat.created_at,
                data={"email": chat.email, "state": chat.state, "ticket_id": chat.ticket_id},
            )
        )
        out += [
            PersonRecord(
                plugin="chatbot",
                kind="chat_message",
                id=str(m.id),
                created_at=m.created_at,
                data={"session_id": chat.id, "role": m.role, "author": m.author, "text": m.text},
            )
            for m in messages_after(session, chat.id, 0)
        ]
    return out


def erase_person(session: Session, tenant_id: uuid.UUID, email: str) -> int:
    """Delete a person's conversations and their transcripts (the ticket keeps its own copy of
    what reached agents); returns how many rows went."""
    chats = [c.id for c in sessions_of_person(session, tenant_id, email)]
    if not chats:
        return 0
    lines = session.execute(
        delete(ChatMessage)
        .where(ChatMessage.tenant_id == tenant_id, ChatMessage.session_id.in_(chats))
        .execution_options(synchronize_session=False)
    )
    gone = session.execute(
        delete(ChatSession)
        .where(ChatSession.tenant_id == tenant_id, ChatSession.id.in_(chats))
        .execution_options(synchronize_session=False)
    )
    return int(lines.rowcount) + int(gone.rowcount)  # type: ignore[attr-defined]


def move_person(
    session: Session,
    tenant_id: uuid.UUID,
    source_id: int,
    source_email: str,
    target_id: int,
    target_email: str,
) -> int:
    """Two people merged: the source's conversations become the target's (by account or by
    the address given in the chat); returns how many moved."""
    moved = session.execute(
        update(ChatSession)
        .where(
            ChatSession.tenant_id == tenant_id,
            (ChatSession.user_id == source_id)
            | (func.lower(ChatSession.email) == source_email.strip().lower()),
        )
        .values(user_id=target_id, email=target_email)
        .execution_options(synchronize_session=False)
    )
    return int(moved.rowcount or 0)  # type: ignore[attr-defined]
