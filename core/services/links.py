"""Signed links that let a person in: invitations, password resets and requesters' sign-in links.

A link carries a random token (``secrets.token_urlsafe``); the ``auth_links`` row keeps only its
SHA-256, so a copy of the database opens nothing. Invitations and resets are single use (the
first use marks ``used_at`` with a conditional update, so two concurrent uses cannot both win);
a sign-in link may be used until it expires or is revoked, and only while its person is an
active end user of the tenant. Every refusal is ``LinkRefused`` (401) with a reason a person can
act on, never a sign-in.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from core.clock import now
from core.crypto import hash_token
from core.errors import Unauthenticated
from core.models import AuthLink, Membership, User
from core.models.links import PURPOSES
from core.permissions import END_USER

INVITATION, PASSWORD_RESET, SIGNIN = PURPOSES
SINGLE_USE = frozenset({INVITATION, PASSWORD_RESET})
DEFAULT_TTL = {
    INVITATION: timedelta(hours=72),
    PASSWORD_RESET: timedelta(hours=1),
    SIGNIN: timedelta(days=30),
}
# A token is at most this long in a URL; anything longer is forged.
MAX_TOKEN_LENGTH = 100


class LinkRefused(Unauthenticated):
    """The link is unknown, expired, used, revoked, or its person may no longer sign in."""


FORGED = "This link is not valid. Check that it was copied whole, or ask for a new one."
EXPIRED = "This link has expired. Ask for a new one."
USED = "This link was already used. Ask for a new one."
REVOKED = "This link was cancelled or replaced by a newer one."
INACTIVE = "This account can no longer sign in with this link."


@dataclass(frozen=True)
class Issued:
    """A new link: the row, and the token to put in the URL (shown or sent once, never stored)."""

    link: AuthLink
    token: str


def issue(
    session: Session,
    purpose: str,
    *,
    tenant_id: uuid.UUID,
    email: str,
    ttl: timedelta | None = None,
    user_id: int | None = None,
    role: str | None = None,
    ticket_id: int | None = None,
    created_by: int | None = None,
) -> Issued:
    """Store a new link (its token's hash) and return it with its token."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    token = secrets.token_urlsafe(32)
    at = now()
    link = AuthLink(
        token_hash=hash_token(token),
        purpose=purpose,
        tenant_id=tenant_id,
        user_id=user_id,
        email=email,
        role=role,
        ticket_id=ticket_id,
        created_at=at,
        expires_at=at + (ttl or DEFAULT_TTL[purpose]),
        created_by=created_by,
    )
    session.add(link)
    session.flush()
    return Issued(link=link, token=token)


def find(session: Session, token: str, purpose: str) -> AuthLink:
    """The live link of this token and purpose; ``LinkRefused`` saying why it is not."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise LinkRefused(FORGED)
    link = session.scalar(select(AuthLink).where(AuthLink.token_hash == hash_token(token)))
    if link is None or link.purpose != purpose:
        raise LinkRefused(FORGED)
    if link.revoked_at is not None:
        raise LinkRefused(REVOKED)
    if link.purpose in SINGLE_USE and link.used_at is not None:
        raise LinkRefused(USED)
    if link.expires_at <= now():
        raise LinkRefused(EXPIRED)
    return link


def consume(session: Session, token: str, purpose: str) -> AuthLink:
    """Use a single-use link: only the first use wins, even when two arrive together."""
    link = find(session, token, purpose)
    at = now()
    done = session.execute(
        update(AuthLink)
        .where(AuthLink.id == link.id, AuthLink.used_at.is_(None), AuthLink.revoked_at.is_(None))
        .values(used_at=at)
        .execution_options(synchronize_session=False)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        raise LinkRefused(USED)
    link.used_at = at
    return link


def signin(session: Session, token: str) -> tuple[AuthLink, User]:
    """The requester a sign-in link signs in: refused when expired or revoked, and once the
    person is deactivated, no longer a member of the tenant, or no longer an end user there
    (staff sign in with their password). Records the use (``used_at`` is the latest)."""
    link = find(session, token, SIGNIN)
    row = session.execute(
        select(User, Membership.role, Membership.deactivated_at)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == link.user_id, Membership.tenant_id == link.tenant_id)
    ).first()
    if row is None or not row[0].is_active or row[1] != END_USER or row[2] is not None:
        raise LinkRefused(INACTIVE)
    link.used_at = now()
    return link, row[0]


def revoke(session: Session, link: AuthLink) -> None:
    """Cancel one link (an invitation cancelled or resent)."""
    if link.revoked_at is None:
        link.revoked_at = now()


def revoke_for_user(
    session: Session,
    user_id: int,
    purpose: str | None = None,
    *,
    keep: int | None = None,
    tenant_id: uuid.UUID | None = None,
) -> int:
    """Revoke the user's links (of one purpose, or all; in one tenant, or all) but ``keep``;
    how many were live."""
    stmt = update(AuthLink).where(AuthLink.user_id == user_id, AuthLink.revoked_at.is_(None))
    if tenant_id is not None:
        stmt = stmt.where(AuthLink.tenant_id == tenant_id)
    if purpose is not None:
        stmt = stmt.where(AuthLink.purpose == purpose)
    if keep is not None:
        stmt = stmt.where(AuthLink.id != keep)
    result = session.execute(
        stmt.values(revoked_at=now()).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def issue_signin(
    session: Session,
    tenant_id: uuid.UUID,
    email: str,
    *,
    ticket_id: int | None = None,
    ttl: timedelta | None = None,
) -> Issued | None:
    """A sign-in link for an active end user of the tenant with this address; None for anyone
    else (unknown, staff, deactivated, not a member)."""
    row = session.execute(
        select(User.id, User.email, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.tenant_id == tenant_id,
            func.lower(User.email) == email.strip().lower(),
            User.is_active.is_(True),
            Membership.deactivated_at.is_(None),
        )
    ).first()
    if row is None or row[2] != END_USER:
        return None
    return issue(
        session,
        SIGNIN,
        tenant_id=tenant_id,
        email=row[1],
        user_id=row[0],
        ticket_id=ticket_id,
        ttl=ttl,
    )


KEEP_AFTER_EXPIRY = timedelta(days=7)


def purge(session: Session) -> int:
    """Delete links that expired more than ``KEEP_AFTER_EXPIRY`` ago (used, revoked or not:
    none can sign anyone in; the audit rows keep the history); how many."""
    result = session.execute(
        delete(AuthLink).where(AuthLink.expires_at < now() - KEEP_AFTER_EXPIRY)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
