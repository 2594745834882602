"""API tokens as their owners and tenant admins manage them: list, create, revoke, last use.

A token is shown once (``identity.create_token`` returns it; only its SHA-256 is stored). Its
scope never exceeds its owner's role: ``admin`` needs the admin role, and a token used to make
another cannot make a wider one than itself. ``last_used_at`` is written at most once a minute
(``touch_due``), never a write per request. Creation and revocation are audited by id, name and
prefix, never the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.clock import now
from core.crypto import hash_token
from core.errors import Invalid, NotFound
from core.models import ApiToken, User
from core.models.identity import TOKEN_SCOPES
from core.permissions import Actor, require_admin
from core.services import audit, identity

TOUCH_EVERY = timedelta(minutes=1)
TOKEN_USED = "token.used"
SCOPE_RANK = {scope: n for n, scope in enumerate(TOKEN_SCOPES)}


@dataclass(frozen=True)
class TokenRow:
    """A token as a list shows it (never the token or its hash)."""

    id: int
    user_id: int
    email: str
    name: str
    prefix: str
    scope: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now():
            return "expired"
        return "active"


def _rows(session: Session, actor: Actor, user_id: int | None) -> list[TokenRow]:
    stmt = (
        select(ApiToken, User.email)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.tenant_id == actor.tenant_id)
    )
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    return [
        TokenRow(
            id=t.id,
            user_id=t.user_id,
            email=email,
            name=t.name,
            prefix=t.prefix,
            scope=t.scope,
            created_at=t.created_at,
            expires_at=t.expires_at,
            last_used_at=t.last_used_at,
            revoked_at=t.revoked_at,
        )
        for t, email in session.execute(stmt.order_by(ApiToken.id.desc()).limit(500))
    ]


def mine(session: Session, actor: Actor) -> list[TokenRow]:
    """The caller's tokens in this tenant, newest first."""
    return _rows(session, actor, actor.user_id)


def of_tenant(session: Session, actor: Actor) -> list[TokenRow]:
    """Every token of the tenant (admins only), newest first."""
    require_admin(actor, "list every token")
    return _rows(session, actor, None)


def create(
    session: Session,
    actor: Actor,
    *,
    name: str,
    scope: str,
    expires_at: datetime | None = None,
    max_scope: str | None = None,
    ip: str = "",
) -> tuple[str, int]:
    """A new token of the caller's: (the token, shown once; its id). ``max_scope`` is the scope
    of the token the request came with, if any: a token never makes a wider one."""
    name = name.strip()
    if not name:
        raise Invalid("give the token a name", field="name")
    if scope not in TOKEN_SCOPES:
        raise Invalid(f"scope must be one of {', '.join(TOKEN_SCOPES)}", field="scope")
    if max_scope is not None and SCOPE_RANK[scope] > SCOPE_RANK.get(max_scope, 0):
        raise Invalid(
            f"a {max_scope} token cannot create a {scope} token; sign in instead", field="scope"
        )
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound("no such user")
    token = identity.create_token(
        session, actor.tenant_id, user, name[:100], scope=scope, expires_at=expires_at
    )
    token_id = int(
        session.scalar(select(ApiToken.id).where(ApiToken.token_hash == hash_token(token))) or 0
    )
    audit.by_actor(
        session,
        actor,
        audit.TOKEN_CREATED,
        ip=ip,
        target_email=user.email,
        details={
            "id": token_id,
            "name": name[:100],
            "prefix": token[:12],
            "scope": scope,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return token, token_id


def revoke(
    session: Session, actor: Actor, token_id: int, *, own_only: bool = False, ip: str = ""
) -> TokenRow:
    """Revoke a token: the caller's own, or (unless ``own_only``) any of the tenant's for an
    admin; another person's token, or another tenant's, is ``NotFound``. Twice is a no-op."""
    token = session.get(ApiToken, token_id)
    if (
        token is None
        or token.tenant_id != actor.tenant_id
        or (token.user_id != actor.user_id and (own_only or not actor.is_admin))
    ):
        raise NotFound(f"token {token_id} not found")
    owner = session.get(User, token.user_id)
    if token.revoked_at is None:
        token.revoked_at = now()
        audit.by_actor(
            session,
            actor,
            audit.TOKEN_REVOKED,
            ip=ip,
            target_email=owner.email if owner else "",
            details={"id": token.id, "name": token.name, "prefix": token.prefix},
        )
    session.flush()
    return next(r for r in _rows(session, actor, token.user_id) if r.id == token.id)


def revoke_by_operator(session: Session, ref: str) -> ApiToken:
    """``hub token revoke ID|PREFIX``: the operator revokes any token (audited in its tenant)."""
    token = None
    if ref.isdigit():
        token = session.get(ApiToken, int(ref))
    if token is None:
        matches = list(session.scalars(select(ApiToken).where(ApiToken.prefix == ref[:12])))
        if len(matches) > 1:
            raise Invalid(f"{ref} names several tokens; use the id", field="ref")
        token = matches[0] if matches else None
    if token is None:
        raise NotFound(f"no token {ref}")
    if token.revoked_at is None:
        token.revoked_at = now()
        owner = session.get(User, token.user_id)
        audit.record(
            session,
            token.tenant_id,
            audit.TOKEN_REVOKED,
            actor_email="operator (cli)",
            target_email=owner.email if owner else "",
            details={"id": token.id, "name": token.name, "prefix": token.prefix},
        )
    return token


def touch_due(last_used_at: datetime | None) -> bool:
    return last_used_at is None or now() - last_used_at >= TOUCH_EVERY


def touch(session: Session, token_id: int) -> None:
    """Record a use (at most once a minute: callers check ``touch_due`` first)."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now()))


def record_use(session: Session, found: identity.TokenIdentity) -> None:
    """Touch the token and, on its first use in each clock hour, write a ``token.used`` row.

    Not a row per request: an integration's token makes thousands of requests an hour, which
    would bury everything else in the trail and add a write to every read. "In use during this
    hour, by whom" is what an investigation needs (``last_used_at`` has the minute)."""
    at = now()
    last = found.last_used_at
    touch(session, found.token_id)
    if last is None or last.replace(minute=0, second=0, microsecond=0) != at.replace(
        minute=0, second=0, microsecond=0
    ):
        audit.record(
            session,
            found.tenant_id,
            TOKEN_USED,
            actor_id=found.user_id,
            actor_email=found.email,
            details={"id": found.token_id},
        )
