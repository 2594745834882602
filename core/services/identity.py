"""Tenants, users, memberships and API tokens."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import password_policy
from core.clock import now
from core.crypto import hash_token, new_token
from core.errors import Conflict, Invalid, NotFound
from core.models import ApiToken, Membership, Tenant, User
from core.models.identity import TOKEN_SCOPES
from core.organisations import service as organisations
from core.permissions import ADMIN, END_USER, ROLES, Actor
from core.services import audit, sessions

_hasher = PasswordHasher()


def create_tenant(session: Session, *, slug: str, name: str) -> Tenant:
    """A new tenant with a unique slug."""
    slug = slug.strip().lower()
    if not slug or not slug.replace("-", "").isalnum():
        raise Invalid("slug must be letters, digits and dashes", field="slug")
    if session.scalar(select(Tenant.id).where(Tenant.slug == slug)):
        raise Conflict(f"tenant {slug} exists")
    tenant = Tenant(slug=slug, name=name or slug, settings={}, created_at=now())
    session.add(tenant)
    session.flush()
    return tenant


def tenant_by_slug(session: Session, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound(f"no tenant {slug}")
    return tenant


def normalize_email(email: str) -> str:
    email = (email or "").strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or " " in email:
        raise Invalid(f"{email!r} is not an email address", field="email")
    return f"{local}@{domain.lower()}"


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


_dummy_hash: str | None = None


def _dummy() -> str:
    """An argon2 hash of a random password, made once (same parameters as real ones)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hash


def check_password(user: User | None, password: str) -> bool:
    """Argon2 verification; False for an unknown user or one without a password.

    Every call verifies one argon2 hash (a dummy one when there is no user or no password), so
    the time a sign-in takes does not tell which addresses have accounts."""
    stored = user.password if user is not None and user.password else None
    try:
        ok = _hasher.verify(stored or _dummy(), password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and stored is not None


def ensure_user(
    session: Session, *, email: str, full_name: str = "", password: str | None = None
) -> User:
    """Find a user by email (case-insensitive) or create one; a password given must satisfy
    the password policy (``core.password_policy``), else ``Invalid``."""
    email = normalize_email(email)
    if password:
        password_policy.check_password(password, email=email)
    user = user_by_email(session, email)
    if user is None:
        user = User(
            email=email,
            full_name=full_name or email.split("@")[0],
            password=hash_password(password) if password else None,
            is_active=True,
            date_joined=now(),
        )
        session.add(user)
        session.flush()
    elif password:
        set_password(session, user, password)
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Change a user's password (policy checked) and sign out every session of theirs."""
    password_policy.check_password(password, email=user.email)
    user.password = hash_password(password)
    sessions.revoke_all_for_user(session, user.id)


INVITATION_NEEDED = (
    "this person already has an account; invitations are needed to add them to this organisation"
)


def add_member(
    session: Session,
    actor: Actor,
    *,
    email: str,
    role: str,
    full_name: str = "",
    ip: str = "",
) -> tuple[User, Membership]:
    """What a tenant admin's "add a member" does: create the account of a new address with the
    role, or change the role of a member (audited in ``tenant_audit`` with the client address).
    An account that already belongs to another tenant is never added without its owner's
    consent: ``Conflict`` (invitations are needed)."""
    tenant_id = actor.tenant_id
    email = normalize_email(email)
    user, have = user_with_role(session, tenant_id, email)
    if (
        user is not None
        and have is None
        and session.scalar(select(Membership.id).where(Membership.user_id == user.id).limit(1))
        is not None
    ):
        raise Conflict(INVITATION_NEEDED, field="email")
    if user is None:
        user = ensure_user(session, email=email, full_name=full_name)
    member = ensure_member(session, tenant_id, user, role)
    audit.member_change(session, actor, user.email, have, member.role, ip)
    return user, member


def members(session: Session, tenant_id: uuid.UUID, *, by_email: bool = False) -> list[Any]:
    """The tenant's members as rows of (id, email, full_name, role, available, active), by user
    id or (``by_email``) by address; ``active`` is False once deactivated here or everywhere."""
    return list(
        session.execute(
            select(
                User.id,
                User.email,
                User.full_name,
                Membership.role,
                Membership.available,
                Membership.deactivated_at.is_(None) & User.is_active.is_(True),
            )
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.tenant_id == tenant_id)
            .order_by(User.email if by_email else User.id)
        ).all()
    )


def user_with_role(
    session: Session, tenant_id: uuid.UUID, email: str
) -> tuple[User | None, str | None]:
    """The user with this email (case-insensitive) and their role in the tenant, in one query;
    (None, None) when there is no such user, (user, None) when they are not a member."""
    row = session.execute(
        select(User, Membership.role)
        .outerjoin(
            Membership, (Membership.user_id == User.id) & (Membership.tenant_id == tenant_id)
        )
        .where(func.lower(User.email) == email.strip().lower())
    ).first()
    return (None, None) if row is None else (row[0], row[1])


def ensure_member(session: Session, tenant_id: uuid.UUID, user: User, role: str) -> Membership:
    """Give the user a role in the tenant, creating or updating the membership."""
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}", field="role")
    member = session.scalar(
        select(Membership).where(Membership.tenant_id == tenant_id, Membership.user_id == user.id)
    )
    if member is None:
        member = Membership(
            tenant_id=tenant_id,
            user_id=user.id,
            role=role,
            skills={},
            available=True,
            created_at=now(),
        )
        session.add(member)
        session.flush()
        if role == END_USER:
            organisations.join_by_address(session, tenant_id, user.id, user.email)
    else:
        member.role = role
    return member


def membership(session: Session, tenant_id: uuid.UUID, user_id: int) -> Membership | None:
    return session.scalar(
        select(Membership).where(Membership.tenant_id == tenant_id, Membership.user_id == user_id)
    )


def actor_for(session: Session, tenant_id: uuid.UUID, user: User) -> Actor:
    """The actor of a user in a tenant; NotFound when they are not a member."""
    member = membership(session, tenant_id, user.id)
    if member is None:
        raise NotFound("not a member of this tenant")
    return Actor(
        tenant_id=tenant_id,
        user_id=user.id,
        role=member.role,
        email=user.email,
        name=user.full_name,
    )


def staff_actor(session: Session, tenant_id: uuid.UUID, email: str) -> Actor | None:
    """The agent or admin of the tenant with this email, as an actor; None for anyone else.

    Channels use it to decide whether someone writing in Slack or Teams acts as staff.
    """
    user = user_by_email(session, email)
    if user is None or not user.is_active:
        return None
    member = membership(session, tenant_id, user.id)
    if member is None or member.role not in ("agent", "admin") or member.deactivated_at:
        return None
    return Actor(
        tenant_id=tenant_id,
        user_id=user.id,
        role=member.role,
        email=user.email,
        name=user.full_name,
    )


def create_token(
    session: Session,
    tenant_id: uuid.UUID,
    user: User,
    name: str = "",
    *,
    scope: str | None = None,
    expires_at: datetime | None = None,
) -> str:
    """Issue a token; only its hash is stored, so this is the one time it is seen.

    ``scope`` defaults to the widest the owner's role allows (``admin`` for admins, else
    ``write``); ``admin`` needs the admin role (``Invalid``)."""
    member = membership(session, tenant_id, user.id)
    if member is None:
        raise Invalid("the user is not a member of this tenant", field="email")
    if scope is None:
        scope = "admin" if member.role == ADMIN else "write"
    if scope not in TOKEN_SCOPES:
        raise Invalid(f"scope must be one of {', '.join(TOKEN_SCOPES)}", field="scope")
    if scope == "admin" and member.role != ADMIN:
        raise Invalid("only admins may hold an admin-scope token", field="scope")
    if expires_at is not None and expires_at <= now():
        raise Invalid("the expiry must be in the future", field="expires_at")
    token = new_token()
    session.add(
        ApiToken(
            tenant_id=tenant_id,
            user_id=user.id,
            name=name,
            token_hash=hash_token(token),
            prefix=token[:12],
            created_at=now(),
            scope=scope,
            expires_at=expires_at,
        )
    )
    session.flush()
    return token


@dataclass(frozen=True)
class TokenIdentity:
    tenant_id: uuid.UUID
    user_id: int
    role: str
    email: str
    name: str
    token_id: int = 0
    scope: str = "write"
    last_used_at: datetime | None = None


def authenticate_token(session: Session, token: str) -> TokenIdentity | None:
    """The identity behind a bearer token, in one query; None when unknown, revoked, expired,
    or its owner is deactivated (everywhere or in the token's tenant) or no longer a member."""
    row = session.execute(
        select(
            ApiToken.tenant_id,
            User.id,
            Membership.role,
            User.email,
            User.full_name,
            ApiToken.id,
            ApiToken.scope,
            ApiToken.last_used_at,
        )
        .join(User, User.id == ApiToken.user_id)
        .join(
            Membership,
            (Membership.user_id == User.id) & (Membership.tenant_id == ApiToken.tenant_id),
        )
        .where(
            ApiToken.token_hash == hash_token(token),
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now()),
            User.is_active.is_(True),
            Membership.deactivated_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    return TokenIdentity(
        tenant_id=row[0],
        user_id=row[1],
        role=row[2],
        email=row[3],
        name=row[4],
        token_id=row[5],
        scope=row[6],
        last_used_at=row[7],
    )
