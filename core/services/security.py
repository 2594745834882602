"""A tenant's access policy: its OpenID Connect provider, whether staff must use it, whether
staff must use two-factor, and who an SSO sign-in is (found by email, or created and made a
member with the configured role).

The client secret is write-only: stored encrypted with the hub keyring, reported only as set
or not. Every change writes a ``tenant_audit`` row naming the fields changed, never the secret.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.clock import now
from core.crypto import Keyring
from core.errors import Forbidden, Invalid
from core.models import AuthSession, Membership, TenantSecurity, User
from core.permissions import ADMIN, AGENT, END_USER, ROLES, Actor, require_admin
from core.services import audit, identity, invitations, two_factor

STAFF_ROLES = (AGENT, ADMIN)
SSO_FIELDS = (
    "enabled",
    "issuer",
    "client_id",
    "client_secret",
    "label",
    "allowed_domains",
    "default_role",
    "require_sso_for_staff",
)


@dataclass(frozen=True)
class SsoView:
    """What an admin sees of the SSO settings: everything but the secret, which is a flag."""

    enabled: bool
    issuer: str
    client_id: str
    client_secret_set: bool
    label: str
    allowed_domains: list[str]
    default_role: str
    require_sso_for_staff: bool


def row_of(session: Session, tenant_id: uuid.UUID) -> TenantSecurity | None:
    return session.get(TenantSecurity, tenant_id)


def _ensure(session: Session, tenant_id: uuid.UUID) -> TenantSecurity:
    row = row_of(session, tenant_id)
    if row is None:
        row = TenantSecurity(
            tenant_id=tenant_id,
            sso_enabled=False,
            issuer="",
            client_id="",
            label="",
            allowed_domains=[],
            default_role=END_USER,
            require_sso_for_staff=False,
            require_two_factor=False,
            updated_at=now(),
        )
        session.add(row)
        session.flush()
    return row


def view(row: TenantSecurity | None) -> SsoView:
    if row is None:
        return SsoView(False, "", "", False, "", [], END_USER, False)
    return SsoView(
        enabled=row.sso_enabled,
        issuer=row.issuer,
        client_id=row.client_id,
        client_secret_set=bool(row.client_secret_encrypted),
        label=row.label,
        allowed_domains=list(row.allowed_domains or []),
        default_role=row.default_role,
        require_sso_for_staff=row.require_sso_for_staff,
    )


def sso_settings(session: Session, actor: Actor) -> SsoView:
    require_admin(actor, "manage single sign-on")
    return view(row_of(session, actor.tenant_id))


def normal_domains(values: list[str]) -> list[str]:
    out: list[str] = []
    for raw in values:
        domain = raw.strip().lower().lstrip("@").rstrip(".")
        if not domain:
            continue
        labels = domain.split(".")
        if len(labels) < 2 or not all(
            lbl and len(lbl) <= 63 and lbl.replace("-", "").isalnum() for lbl in labels
        ):
            raise Invalid(f"{raw!r} is not a domain name", field="allowed_domains")
        if domain not in out:
            out.append(domain)
    return out


def update_sso(
    session: Session, actor: Actor, keyring: Keyring, values: dict[str, Any], *, ip: str = ""
) -> SsoView:
    """Change the SSO settings (keys of ``SSO_FIELDS``; None or absent keeps a value, an empty
    ``client_secret`` keeps the stored one). Turning SSO on needs an issuer, a client id, a
    secret and at least one allowed domain. The issuer URL's reachability (egress policy) is
    the caller's check."""
    require_admin(actor, "manage single sign-on")
    unknown = sorted(set(values) - set(SSO_FIELDS))
    if unknown:
        raise Invalid(f"unknown settings: {', '.join(unknown)}", field=unknown[0])
    row = _ensure(session, actor.tenant_id)
    changed: list[str] = []

    def put(attr: str, value: Any, name: str) -> None:
        if getattr(row, attr) != value:
            setattr(row, attr, value)
            changed.append(name)

    if values.get("issuer") is not None:
        put("issuer", str(values["issuer"]).strip(), "issuer")  # exactly the tokens' "iss"
    if values.get("client_id") is not None:
        put("client_id", str(values["client_id"]).strip(), "client_id")
    if values.get("label") is not None:
        put("label", str(values["label"]).strip(), "label")
    if values.get("allowed_domains") is not None:
        put("allowed_domains", normal_domains(list(values["allowed_domains"])), "allowed_domains")
    if values.get("default_role") is not None:
        role = str(values["default_role"])
        if role not in ROLES:
            raise Invalid(f"default_role must be one of {', '.join(ROLES)}", field="default_role")
        put("default_role", role, "default_role")
    if values.get("require_sso_for_staff") is not None:
        put("require_sso_for_staff", bool(values["require_sso_for_staff"]), "require_sso_for_staff")
    if values.get("enabled") is not None:
        put("sso_enabled", bool(values["enabled"]), "enabled")
    secret = values.get("client_secret")
    if secret:
        row.client_secret_encrypted = keyring.encrypt_json({"client_secret": str(secret)})
        changed.append("client_secret")
    if row.sso_enabled:
        missing = [
            name
            for name, ok in (
                ("issuer", row.issuer),
                ("client_id", row.client_id),
                ("client_secret", row.client_secret_encrypted),
                ("allowed_domains", row.allowed_domains),
            )
            if not ok
        ]
        if missing:
            raise Invalid(
                f"single sign-on needs {', '.join(missing)} before it is turned on",
                field=missing[0],
            )
    if row.require_sso_for_staff and not row.sso_enabled:
        raise Invalid(
            "staff can be required to use single sign-on only while it is on",
            field="require_sso_for_staff",
        )
    if changed:
        row.updated_at = now()
        audit.by_actor(session, actor, audit.SSO_CHANGED, ip=ip, details={"changed": changed})
    session.flush()
    return view(row)


def client_secret(row: TenantSecurity, keyring: Keyring) -> str:
    return str(
        keyring.decrypt_json(row.client_secret_encrypted, what="the SSO client secret").get(
            "client_secret", ""
        )
    )


def two_factor_required(session: Session, actor: Actor) -> bool:
    require_admin(actor, "manage two-factor policy")
    row = row_of(session, actor.tenant_id)
    return bool(row and row.require_two_factor)


def set_two_factor_required(session: Session, actor: Actor, required: bool, *, ip: str = "") -> int:
    """Require (or stop requiring) two-factor of the tenant's agents and admins; the admin who
    turns it on must have it (no locking oneself out by surprise). When it starts, the sessions
    in this tenant of staff without a second factor end (they enrol at their next sign-in).
    Returns how many sessions ended."""
    require_admin(actor, "manage two-factor policy")
    if required and actor.user_id is not None and not two_factor.enrolled(session, actor.user_id):
        raise Invalid(
            "set up two-factor for your own account first (/account/two-factor)",
            field="required_for_staff",
        )
    row = _ensure(session, actor.tenant_id)
    if row.require_two_factor == required:
        return 0
    row.require_two_factor = required
    row.updated_at = now()
    ended = 0
    if required:
        users = two_factor.staff_without(session, actor.tenant_id)
        if users:
            result = session.execute(
                update(AuthSession)
                .where(
                    AuthSession.tenant_id == actor.tenant_id,
                    AuthSession.user_id.in_(users),
                    AuthSession.revoked_at.is_(None),
                )
                .values(revoked_at=now())
            )
            ended = int(result.rowcount)  # type: ignore[attr-defined]
    audit.by_actor(
        session,
        actor,
        audit.TWO_FACTOR_POLICY,
        ip=ip,
        details={"required_for_staff": required, "sessions_ended": ended},
    )
    session.flush()
    return ended


def password_refusal(session: Session, tenant_id: uuid.UUID, role: str) -> str | None:
    """Why a password sign-in to this tenant is refused for this role (SSO required), or None."""
    if role not in STAFF_ROLES:
        return None
    row = row_of(session, tenant_id)
    if row is None or not (row.sso_enabled and row.require_sso_for_staff):
        return None
    label = row.label or "your organisation's single sign-on"
    return (
        f"Your organisation requires agents and admins to sign in with {label}; "
        "passwords are not accepted."
    )


def active_sso(session: Session, tenant_id: uuid.UUID) -> TenantSecurity | None:
    """The tenant's SSO settings when it is on and complete, else None."""
    row = row_of(session, tenant_id)
    if row is None or not row.sso_enabled or not row.issuer or not row.client_id:
        return None
    return row


class SsoRefused(Forbidden):
    """An SSO sign-in the hub will not complete; ``reason`` is a short code for the audit."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def email_domain_allowed(row: TenantSecurity, email: str) -> bool:
    domain = email.rsplit("@", 1)[-1].lower() if "@" in email else ""
    return bool(domain) and domain in (row.allowed_domains or [])


def provision(session: Session, row: TenantSecurity, *, email: str, name: str) -> tuple[User, str]:
    """The person an SSO sign-in names (verified email, allowed domain checked by the caller):
    a member keeps their role; a new address is created with the configured role. An account
    that exists but belongs to other organisations only is refused: the provider of one tenant
    never grants access to an account others hold (an admin invites it instead)."""
    email = identity.normalize_email(email)
    user, role = identity.user_with_role(session, row.tenant_id, email)
    if user is not None and not user.is_active:
        raise SsoRefused("This account is deactivated.", "deactivated")
    if role is None:
        # An invited person may accept through SSO: the invitation's role, even for an account
        # of other organisations (the admin asked for it by inviting).
        if user is None and invitations.has_pending(session, row.tenant_id, email):
            user = identity.ensure_user(session, email=email, full_name=name)
        if user is not None:
            accepted = invitations.accept_by_sso(session, row.tenant_id, user)
            if accepted is not None:
                return user, accepted.role
    if user is not None and role is None:
        other = session.scalar(select(Membership.id).where(Membership.user_id == user.id).limit(1))
        if other is not None:
            raise SsoRefused(
                "This account belongs to another organisation; ask your admin to invite it.",
                "account_of_another_tenant",
            )
    if user is None:
        user = identity.ensure_user(session, email=email, full_name=name)
    if role is None:
        identity.ensure_member(session, row.tenant_id, user, row.default_role)
        role = row.default_role
    return user, role
