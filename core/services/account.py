"""A person's own account: their name, their password, their sessions (all audited).

A password change needs the current password and passes the password policy; it ends every
other session of the person (the one it was made from stays) and leaves their API tokens alone
(those are revoked one by one, ``core.services.tokens``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import password_policy
from core.errors import Invalid, NotFound
from core.models import User
from core.permissions import Actor
from core.services import audit, identity, sessions


def _user(session: Session, actor: Actor) -> User:
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise NotFound("no such user")
    return user


def change_name(session: Session, actor: Actor, full_name: str, *, ip: str = "") -> User:
    """Change the caller's display name."""
    name = " ".join((full_name or "").split())
    if not name:
        raise Invalid("enter your name", field="full_name")
    if len(name) > 200:
        raise Invalid("at most 200 characters", field="full_name")
    user = _user(session, actor)
    if user.full_name != name:
        user.full_name = name
        audit.by_actor(session, actor, audit.PROFILE_CHANGED, ip=ip, target_email=user.email)
    return user


def check_current(session: Session, actor: Actor, current: str) -> User:
    """The caller, when ``current`` is their password; else ``Invalid`` on current_password."""
    user = _user(session, actor)
    if not identity.check_password(user, current):
        raise Invalid("the current password is wrong", field="current_password")
    return user


def change_password(
    session: Session, user: User, actor: Actor, new: str, *, keep_hash: str = "", ip: str = ""
) -> int:
    """Set a new password (policy checked, reason in ``Invalid``) for a ``user`` whose current
    password was checked; ends every other session. Returns how many sessions ended."""
    password_policy.check_password(new, email=user.email)
    if identity.check_password(user, new):
        raise Invalid("choose a password different from the current one", field="password")
    user.password = identity.hash_password(new)
    ended = sessions.revoke_for_user(session, user.id, keep_hash=keep_hash)
    audit.by_actor(
        session,
        actor,
        audit.PASSWORD_CHANGED,
        ip=ip,
        target_email=user.email,
        details={"other_sessions_ended": ended},
    )
    return ended


def sign_out(
    session: Session,
    actor: Actor,
    *,
    key: str | None = None,
    keep_hash: str = "",
    everywhere: bool = False,
    ip: str = "",
) -> int:
    """End one session of the caller's (by its public ``key``), every other one (``keep_hash``
    is the caller's own), or ``everywhere`` (in every tenant, this one included)."""
    user = _user(session, actor)
    if everywhere:
        ended = sessions.revoke_for_user(session, user.id)
    elif key is not None:
        ended = sessions.revoke_for_user(
            session, user.id, tenant_id=actor.tenant_id, key=key, keep_hash=keep_hash
        )
        if not ended:
            raise NotFound("no such session")
    else:
        ended = sessions.revoke_for_user(session, user.id, keep_hash=keep_hash)
    what = "everywhere" if everywhere else "one" if key is not None else "others"
    audit.by_actor(
        session,
        actor,
        audit.SESSIONS_REVOKED,
        ip=ip,
        target_email=user.email,
        details={"which": what, "count": ended},
    )
    return ended
