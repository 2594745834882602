"""Two-factor sign-in with TOTP (RFC 6238, ``pyotp``) and single-use recovery codes.

A person enrols by asking for a secret (stored encrypted with the hub keyring, inactive) and
confirming it with a first code; confirmation hands out ten recovery codes once (only their
SHA-256 is kept). A code is accepted for the current 30-second step or the one either side, and
never for a step already used (``TwoFactor.last_step``): a code seen over a shoulder cannot be
replayed. Time comes from ``core.clock`` so tests can freeze it.

A tenant may require two-factor of its agents and admins (``TenantSecurity.require_two_factor``):
they cannot then disable it, and sign-in sends them to enrol before any session exists.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass

import pyotp
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core.clock import now
from core.crypto import Keyring, hash_token
from core.errors import Conflict, Forbidden, Invalid
from core.models import Membership, RecoveryCode, TenantSecurity, TwoFactor, User
from core.permissions import ADMIN, AGENT
from core.services import audit

STEP_SECONDS = 30
RECOVERY_CODES = 10
ISSUER = "Support Hub"
STAFF_ROLES = (AGENT, ADMIN)


@dataclass(frozen=True)
class Enrolment:
    """What a person needs to set up an authenticator app: the secret and its otpauth URI."""

    secret: str
    uri: str


@dataclass(frozen=True)
class Status:
    enabled: bool
    pending: bool  # a secret handed out, not confirmed yet
    recovery_codes_left: int


def _row(session: Session, user_id: int) -> TwoFactor | None:
    return session.get(TwoFactor, user_id)


def enrolled(session: Session, user_id: int) -> bool:
    """Whether the person signs in with a second factor."""
    row = _row(session, user_id)
    return row is not None and row.confirmed_at is not None


def status(session: Session, user_id: int) -> Status:
    row = _row(session, user_id)
    left = len(
        list(
            session.scalars(
                select(RecoveryCode.id).where(
                    RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
                )
            )
        )
    )
    return Status(
        enabled=row is not None and row.confirmed_at is not None,
        pending=row is not None and row.confirmed_at is None,
        recovery_codes_left=left if row is not None and row.confirmed_at is not None else 0,
    )


def required(session: Session, tenant_id: uuid.UUID, role: str) -> bool:
    """Whether the tenant requires two-factor of someone with this role."""
    if role not in STAFF_ROLES:
        return False
    return bool(
        session.scalar(
            select(TenantSecurity.require_two_factor).where(TenantSecurity.tenant_id == tenant_id)
        )
    )


def required_anywhere(session: Session, user_id: int) -> bool:
    """Whether any tenant where the person is staff requires two-factor (they cannot drop it)."""
    rows = session.execute(
        select(TenantSecurity.require_two_factor)
        .join(Membership, Membership.tenant_id == TenantSecurity.tenant_id)
        .where(Membership.user_id == user_id, Membership.role.in_(STAFF_ROLES))
    ).all()
    return any(r[0] for r in rows)


def _uri(secret: str, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def begin(session: Session, user: User, keyring: Keyring, *, issuer: str = ISSUER) -> Enrolment:
    """A fresh secret for the person, inactive until ``confirm``; replaces an unconfirmed one.
    ``Conflict`` when two-factor is already on (disable it first)."""
    row = _row(session, user.id)
    if row is not None and row.confirmed_at is not None:
        raise Conflict("two-factor is already on; turn it off first to enrol a new device")
    secret = pyotp.random_base32()
    blob = keyring.encrypt_json({"totp": secret})
    if row is None:
        session.add(TwoFactor(user_id=user.id, secret_encrypted=blob, created_at=now()))
    else:
        row.secret_encrypted, row.last_step, row.created_at = blob, 0, now()
    session.flush()
    return Enrolment(secret=secret, uri=_uri(secret, user.email, issuer))


def pending_enrolment(
    session: Session, user: User, keyring: Keyring, *, issuer: str = ISSUER
) -> Enrolment | None:
    """The unconfirmed secret handed out by ``begin`` (to show again), or None."""
    row = _row(session, user.id)
    if row is None or row.confirmed_at is not None:
        return None
    secret = str(keyring.decrypt_json(row.secret_encrypted, what="a TOTP secret").get("totp", ""))
    if not secret:
        return None
    return Enrolment(secret=secret, uri=_uri(secret, user.email, issuer))


def _normal(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _match_totp(session: Session, row: TwoFactor, keyring: Keyring, code: str) -> bool:
    """Check a 6-digit code against the steps around now, newer than the last one used."""
    digits = _normal(code)
    if len(digits) != 6 or not digits.isdigit():
        return False
    secret = str(keyring.decrypt_json(row.secret_encrypted, what="a TOTP secret").get("totp", ""))
    if not secret:
        return False
    totp = pyotp.TOTP(secret)
    current = int(now().timestamp()) // STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if step <= row.last_step:
            continue  # that code (or an earlier one) was used already: no replay
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), digits):
            # Conditional, so that two requests racing with one code cannot both win.
            taken = session.execute(
                update(TwoFactor)
                .where(TwoFactor.user_id == row.user_id, TwoFactor.last_step < step)
                .values(last_step=step)
                .execution_options(synchronize_session=False)
            )
            if not taken.rowcount:  # type: ignore[attr-defined]
                return False
            row.last_step = step
            session.flush()
            return True
    return False


def _new_codes(session: Session, user_id: int) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)  # 40 bits, shown as xxxxx-xxxxx
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user_id, code_hash=hash_token(raw)))
    session.flush()
    return codes


def confirm(session: Session, user: User, keyring: Keyring, code: str) -> list[str]:
    """Turn two-factor on with a first code from the app; returns the ten recovery codes (the
    only time they are shown). ``Invalid`` for a wrong code or when nothing was begun."""
    row = _row(session, user.id)
    if row is None or row.confirmed_at is not None:
        raise Invalid("start the set-up first", field="code")
    if not _match_totp(session, row, keyring, code):
        raise Invalid("that code is not right; check the time on your device", field="code")
    row.confirmed_at = now()
    return _new_codes(session, user.id)


def verify(session: Session, user: User, keyring: Keyring, code: str) -> str | None:
    """Check a sign-in code: ``"totp"``, ``"recovery"`` (that code is now used up), or None."""
    row = _row(session, user.id)
    if row is None or row.confirmed_at is None or not code.strip():
        return None
    if _match_totp(session, row, keyring, code):
        return "totp"
    hashed = hash_token(_normal(code))
    used = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hashed,
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now())
    )
    return "recovery" if used.rowcount else None  # type: ignore[attr-defined]


def regenerate_codes(session: Session, user: User, keyring: Keyring, code: str) -> list[str]:
    """New recovery codes (the old ones stop working), against a current code."""
    if verify(session, user, keyring, code) is None:
        raise Invalid("that code is not right", field="code")
    return _new_codes(session, user.id)


def disable(
    session: Session,
    user: User,
    keyring: Keyring,
    *,
    code: str = "",
    password_ok: bool = False,
) -> None:
    """Turn two-factor off, given a current code (or recovery code) or the right password.
    ``Forbidden`` when an organisation where the person is staff requires it."""
    row = _row(session, user.id)
    if row is None:
        raise Conflict("two-factor is not on")
    if row.confirmed_at is not None:
        if required_anywhere(session, user.id):
            raise Forbidden("your organisation requires two-factor sign-in for its staff")
        if not password_ok and verify(session, user, keyring, code) is None:
            raise Invalid("give a current code or your password", field="code")
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.delete(row)
    session.flush()


def reset(session: Session, user: User) -> bool:
    """The operator's way out for someone who lost both device and recovery codes: two-factor
    off, whatever policy applies (they enrol again at their next sign-in where it is required).
    Audited in each tenant of the person. False when it was not on."""
    row = _row(session, user.id)
    if row is None:
        return False
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.delete(row)
    for tenant_id in session.scalars(
        select(Membership.tenant_id).where(Membership.user_id == user.id)
    ):
        audit.record(
            session,
            tenant_id,
            audit.TWO_FACTOR_DISABLED,
            actor_email="operator (hub CLI)",
            target_email=user.email,
            details={"by": "operator"},
        )
    session.flush()
    return True


def staff_without(session: Session, tenant_id: uuid.UUID) -> list[int]:
    """Agents and admins of the tenant who have no second factor (their sessions end when the
    tenant starts requiring one)."""
    return list(
        session.scalars(
            select(Membership.user_id)
            .outerjoin(TwoFactor, TwoFactor.user_id == Membership.user_id)
            .where(
                Membership.tenant_id == tenant_id,
                Membership.role.in_(STAFF_ROLES),
                TwoFactor.confirmed_at.is_(None),
            )
        )
    )
