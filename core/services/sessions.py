"""Server-side console sessions: created at sign-in, checked on every request, revoked at sign-out.

The cookie carries only a random id; the table keeps its SHA-256 (a copy of the database signs
nobody in). A session stops counting when it is revoked, when it has been idle longer than
``IDLE_TIMEOUT``, past ``ABSOLUTE_TIMEOUT`` after sign-in, or when its user is deactivated (everywhere, or in the
session's tenant) or loses the membership. Every check reads the row, so a revocation takes effect on the next request.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from core.clock import now
from core.crypto import hash_token
from core.i18n.service import Prefs, settings_locale
from core.models import AuthSession, Membership, PersonLocale, Tenant, User

IDLE_TIMEOUT = timedelta(hours=12)
ABSOLUTE_TIMEOUT = timedelta(days=14)
# last_seen_at is written at most this often (a write per request would be a write per page).
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionIdentity:
    """Who a valid session signs in, and whether its last_seen_at is due for a write."""

    session_hash: str
    user_id: int
    tenant_id: uuid.UUID
    role: str
    email: str
    name: str
    tenant_name: str
    tenant_slug: str
    touch_due: bool
    # The member's own "available for new tickets" switch (staff), shown in the header.
    available: bool = True
    # The person's language and zone choices, and the tenant's default language (same query).
    prefs: Prefs = Prefs()
    tenant_locale: str | None = None


def create(
    session: Session, *, user_id: int, tenant_id: uuid.UUID, user_agent: str = "", ip: str = ""
) -> str:
    """A new session; returns the random id for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    at = now()
    session.add(
        AuthSession(
            id=hash_token(token),
            user_id=user_id,
            tenant_id=tenant_id,
            created_at=at,
            last_seen_at=at,
            expires_at=at + ABSOLUTE_TIMEOUT,
            user_agent=(user_agent or "")[:200],
            ip=(ip or "")[:45],
        )
    )
    session.flush()
    return token


def lookup(session: Session, token: str) -> SessionIdentity | None:
    """The identity of a live session in one query; None when unknown, revoked, expired (idle
    or absolute), or its user is inactive or no longer a member of the session's tenant."""
    if not token:
        return None
    at = now()
    row = session.execute(
        select(
            AuthSession.id,
            AuthSession.last_seen_at,
            User.id,
            Membership.role,
            User.email,
            User.full_name,
            Tenant.id,
            Tenant.name,
            Tenant.slug,
            Membership.available,
            PersonLocale.locale,
            PersonLocale.time_zone,
            PersonLocale.browser_locale,
            PersonLocale.browser_time_zone,
            Tenant.settings,
        )
        .join(User, User.id == AuthSession.user_id)
        .join(
            Membership,
            (Membership.user_id == User.id) & (Membership.tenant_id == AuthSession.tenant_id),
        )
        .join(Tenant, Tenant.id == AuthSession.tenant_id)
        .outerjoin(PersonLocale, PersonLocale.user_id == User.id)
        .where(
            AuthSession.id == hash_token(token),
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > at,
            AuthSession.last_seen_at > at - IDLE_TIMEOUT,
            User.is_active.is_(True),
            Membership.deactivated_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    return SessionIdentity(
        session_hash=row[0],
        user_id=row[2],
        role=row[3],
        email=row[4],
        name=row[5],
        tenant_id=row[6],
        tenant_name=row[7],
        tenant_slug=row[8],
        touch_due=at - row[1] >= TOUCH_EVERY,
        available=bool(row[9]),
        prefs=Prefs(row[10], row[11], row[12], row[13]),
        tenant_locale=settings_locale(row[14]),
    )


def touch(session: Session, session_hash: str) -> None:
    """Record activity (the idle timeout counts from here)."""
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_hash, AuthSession.revoked_at.is_(None))
        .values(last_seen_at=now())
    )


def revoke(session: Session, token: str) -> bool:
    """Revoke one session by its cookie id; False when it was unknown or already revoked."""
    result = session.execute(
        update(AuthSession)
        .where(AuthSession.id == hash_token(token), AuthSession.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def revoke_all_for_user(session: Session, user_id: int) -> int:
    """Revoke every live session of a user (password change, offboarding); how many."""
    result = session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SessionRow:
    """One live session as its owner sees it (never the cookie's id)."""

    key: str  # a short public handle: the first 16 hex digits of the stored hash
    user_agent: str
    ip: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


def live_for_user(
    session: Session, user_id: int, tenant_id: uuid.UUID, current_hash: str = ""
) -> list[SessionRow]:
    """The user's live sessions in the tenant, the most recently used first."""
    at = now()
    rows = session.scalars(
        select(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            AuthSession.tenant_id == tenant_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > at,
            AuthSession.last_seen_at > at - IDLE_TIMEOUT,
        )
        .order_by(AuthSession.last_seen_at.desc())
    )
    return [
        SessionRow(
            key=r.id[:16],
            user_agent=r.user_agent,
            ip=r.ip,
            created_at=r.created_at,
            last_seen_at=r.last_seen_at,
            current=r.id == current_hash,
        )
        for r in rows
    ]


def revoke_for_user(
    session: Session,
    user_id: int,
    *,
    tenant_id: uuid.UUID | None = None,
    key: str | None = None,
    keep_hash: str = "",
) -> int:
    """Revoke the user's live sessions (in one tenant when given; only the one whose public
    ``key`` is given; never ``keep_hash``, the caller's own); how many."""
    stmt = update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
    )
    if tenant_id is not None:
        stmt = stmt.where(AuthSession.tenant_id == tenant_id)
    if key is not None:
        if len(key) != 16 or not all(c in "0123456789abcdef" for c in key):
            return 0
        stmt = stmt.where(AuthSession.id.startswith(key, autoescape=True))
    if keep_hash:
        stmt = stmt.where(AuthSession.id != keep_hash)
    result = session.execute(stmt.values(revoked_at=now()))
    return int(result.rowcount)  # type: ignore[attr-defined]


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"))
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def device_label(user_agent: str) -> str:
    """A short human name for a user agent: "Firefox on Windows", "curl", "Unknown device"."""
    ua = user_agent or ""
    if not ua.strip():
        return "Unknown device"
    browser = next((name for mark, name in _BROWSERS if mark in ua), "")
    if not browser and "Safari/" in ua:
        browser = "Safari"
    system = next((name for mark, name in _SYSTEMS if mark in ua), "")
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or system
    return ua.split("/", 1)[0].strip()[:40] or "Unknown device"


KEEP_AFTER_END = timedelta(days=7)


def purge(session: Session) -> int:
    """Delete sessions that ended (expired, idle past the timeout, or revoked) more than
    ``KEEP_AFTER_END`` ago; how many."""
    cutoff = now() - KEEP_AFTER_END
    result = session.execute(
        delete(AuthSession).where(
            or_(
                AuthSession.expires_at < cutoff,
                AuthSession.revoked_at < cutoff,
                AuthSession.last_seen_at < cutoff - IDLE_TIMEOUT,
            )
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
