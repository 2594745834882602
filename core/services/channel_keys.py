"""Claims of inbound channel keys: one tenant owns a key, and only after proving control.

Every plugin that routes inbound traffic by a key (a support address, a Slack team id, a Teams
app id) declares it with ``PluginInfo.channel_keys``; the hub calls ``sync`` in the transaction
that saves the tenant's settings. Ownership rests on a partial unique index over verified
claims, never on a read-then-write or on row order. A key proved by mail stays pending (it
routes nothing) until the verification mail sent to it comes back through intake with its
secret (``verify_from_mail``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from core.clock import now
from core.errors import Conflict, NotFound
from core.models import ChannelKey, TenantPlugin
from core.types import PROOF_MAIL, PROOF_SIGNED

log = logging.getLogger("hub.channel_keys")
__all__ = [
    "PROOF_MAIL",
    "PROOF_SIGNED",
    "Claim",
    "claims_of",
    "mark_verified",
    "owner",
    "owners",
    "pending",
    "renew",
    "sync",
    "verify_from_mail",
]
TOKEN_PREFIX = "hub-verify-"
# What a verification secret looks like inside a mail (subject or body, any encoding we send).
TOKEN_PATTERN = re.compile(rb"hub-verify-([A-Za-z0-9_-]{32})")


@dataclass(frozen=True)
class Claim:
    """A tenant's claim of a key. ``token`` is the verification secret, present only on the
    claim that was just made (it is stored hashed and can never be read back)."""

    plugin: str
    key: str
    verified: bool
    contested: bool = False
    token: str | None = None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return secrets.token_urlsafe(24)  # 32 characters of [A-Za-z0-9_-]


def sync(
    session: Session,
    tenant_id: uuid.UUID,
    plugin: str,
    keys: Iterable[str],
    *,
    proof: str,
    label: str = "key",
) -> list[Claim]:
    """Make this tenant's claims of ``plugin`` keys exactly ``keys``; returns the new claims.

    A key dropped from the settings is released. A new key with ``proof="signed"`` is owned at
    once, or refused (``Conflict``) when another tenant owns it: the unique index decides, in
    this transaction. A new key with ``proof="mail"`` is refused when another tenant owns it,
    and otherwise pending with a fresh secret for the verification mail.
    """
    wanted = list(dict.fromkeys(k for k in keys if k))
    mine = {
        c.key: c
        for c in session.scalars(
            select(ChannelKey).where(ChannelKey.tenant_id == tenant_id, ChannelKey.plugin == plugin)
        )
    }
    gone = [k for k in mine if k not in wanted]
    if gone:
        session.execute(
            delete(ChannelKey).where(
                ChannelKey.tenant_id == tenant_id,
                ChannelKey.plugin == plugin,
                ChannelKey.key.in_(gone),
            )
        )
    made: list[Claim] = []
    for key in wanted:
        if key in mine:
            continue
        if proof == PROOF_SIGNED:
            row = ChannelKey(
                tenant_id=tenant_id, plugin=plugin, key=key, verified_at=now(), created_at=now()
            )
            _insert(session, row, label)
            made.append(Claim(plugin, key, verified=True))
        else:
            if owner(session, plugin, key) is not None:
                raise Conflict(f"{label} {key} belongs to another tenant", field=label)
            token = _new_token()
            _insert(
                session,
                ChannelKey(
                    tenant_id=tenant_id,
                    plugin=plugin,
                    key=key,
                    token_hash=_hash(token),
                    created_at=now(),
                ),
                label,
            )
            made.append(Claim(plugin, key, verified=False, token=token))
    return made


def _flushed(session: Session, new: ChannelKey | None = None) -> bool:
    """Flush (with ``new`` added) in a savepoint; False when the unique index refused it: the
    savepoint is undone, ``new`` dropped, and the transaction goes on."""
    try:
        with session.begin_nested():
            if new is not None:
                session.add(new)
            session.flush()
    except IntegrityError:
        return False
    return True


def _insert(session: Session, row: ChannelKey, label: str) -> None:
    if not _flushed(session, row):
        raise Conflict(f"{label} {row.key} belongs to another tenant", field=label)


def claims_of(session: Session, tenant_id: uuid.UUID, plugin: str) -> list[Claim]:
    """This tenant's claims of the plugin's keys, each marked verified or pending (and
    contested when another tenant has a pending claim of the same key)."""
    rows = list(
        session.scalars(
            select(ChannelKey)
            .where(ChannelKey.tenant_id == tenant_id, ChannelKey.plugin == plugin)
            .order_by(ChannelKey.id)
        )
    )
    pending = [r.key for r in rows if r.verified_at is None]
    rivals = (
        set(
            session.scalars(
                select(ChannelKey.key).where(
                    ChannelKey.plugin == plugin,
                    ChannelKey.key.in_(pending),
                    ChannelKey.tenant_id != tenant_id,
                )
            )
        )
        if pending
        else set()
    )
    return [
        Claim(plugin, r.key, verified=r.verified_at is not None, contested=r.key in rivals)
        for r in rows
    ]


def _owned(plugin: str, enabled: bool) -> Select[str, uuid.UUID]:
    query = select(ChannelKey.key, ChannelKey.tenant_id).where(
        ChannelKey.plugin == plugin, ChannelKey.verified_at.is_not(None)
    )
    if enabled:
        query = query.join(
            TenantPlugin,
            (TenantPlugin.tenant_id == ChannelKey.tenant_id) & (TenantPlugin.plugin == plugin),
        ).where(TenantPlugin.enabled.is_(True))
    return query


def owner(session: Session, plugin: str, key: str, *, enabled: bool = False) -> uuid.UUID | None:
    """The tenant whose verified claim holds ``key``, if any (one at most, by the index);
    with ``enabled``, only if that tenant has the plugin on."""
    row = session.execute(_owned(plugin, enabled).where(ChannelKey.key == key)).first()
    return row[1] if row is not None else None


def owners(session: Session, plugin: str, *, enabled: bool = False) -> dict[str, uuid.UUID]:
    """Every verified key of a plugin and its tenant (for in-memory routing tables)."""
    return dict(session.execute(_owned(plugin, enabled)).tuples().all())


def pending(session: Session, plugin: str) -> set[str]:
    """Keys of a plugin that some tenant claims and nobody has proved yet."""
    proved = aliased(ChannelKey)
    return set(
        session.scalars(
            select(ChannelKey.key).where(
                ChannelKey.plugin == plugin,
                ChannelKey.verified_at.is_(None),
                ~exists().where(
                    proved.plugin == plugin,
                    proved.key == ChannelKey.key,
                    proved.verified_at.is_not(None),
                ),
            )
        )
    )


def renew(session: Session, tenant_id: uuid.UUID, plugin: str, key: str) -> Claim:
    """A fresh verification secret for a pending claim (the old one stops working)."""
    row = session.scalar(
        select(ChannelKey).where(
            ChannelKey.tenant_id == tenant_id, ChannelKey.plugin == plugin, ChannelKey.key == key
        )
    )
    if row is None:
        raise NotFound(f"no claim of {key}")
    if row.verified_at is not None:
        return Claim(plugin, key, verified=True)
    token = _new_token()
    row.token_hash = _hash(token)
    return Claim(plugin, key, verified=False, token=token)


def mark_verified(session: Session, tenant_id: uuid.UUID, plugin: str, key: str) -> None:
    """Verify a claim on the operator's word (``hub channels verify``, the demo tenant)."""
    row = session.scalar(
        select(ChannelKey).where(
            ChannelKey.tenant_id == tenant_id, ChannelKey.plugin == plugin, ChannelKey.key == key
        )
    )
    if row is None:
        row = ChannelKey(tenant_id=tenant_id, plugin=plugin, key=key, created_at=now())
        session.add(row)
    if row.verified_at is None:
        row.verified_at, row.token_hash = now(), None
        if not _flushed(session):
            raise Conflict(f"{key} belongs to another tenant")


def verify_from_mail(session: Session, plugin: str, key: str, raw: bytes) -> uuid.UUID | None:
    """If ``raw`` carries the secret of a pending claim of ``key``, verify that claim and
    return its tenant; None otherwise.

    A key that several tenants claim at once is verified for none of them (whoever forwards
    the address's mail would otherwise decide by arrival order): the claims stay pending and
    the console shows them contested, for the operator to settle.
    """
    hashes = {_hash(m.decode()) for m in TOKEN_PATTERN.findall(raw[:1_000_000])}
    if not hashes:
        return None
    claims = list(
        session.scalars(
            select(ChannelKey).where(ChannelKey.plugin == plugin, ChannelKey.key == key)
        )
    )
    mine = next((c for c in claims if c.token_hash in hashes and c.verified_at is None), None)
    if mine is None:
        return None
    if len(claims) > 1:
        log.warning(
            "channel key %s/%s is claimed by %d tenants: not verified for any",
            plugin,
            key,
            len(claims),
        )
        return None
    mine.verified_at, mine.token_hash = now(), None
    return mine.tenant_id if _flushed(session) else None
