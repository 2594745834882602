"""Retention: one bounded batch of one kind at a time, each idempotent (what is done no longer
matches), so a run is resumed by running the batches again.

Kinds (``KINDS``, in run order): ``closed_tickets`` (closed before the cut-off: anonymised or
deleted, per the policy), ``raw_mail`` (raw message blobs), ``exports`` (export archives past
their expiry) and ``audit`` (audit rows, through the audit trail's ``prune_audit``). Plugin
kinds (``parked_mail``) are swept through the ``hub_retention_sweep`` hook by the hub. Nothing
held (``core.privacy.holds``) is touched. The caller commits each batch, then deletes the blobs
it names.
"""

from __future__ import annotations

import importlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, not_, or_, select, update
from sqlalchemy.orm import Session

from core.clock import now
from core.crypto import Keyring
from core.models import Attachment, Comment, InboundKey, Ticket
from core.privacy.models import LegalHold, PersonExport
from core.privacy.policy import Policy
from core.reports import summaries

KINDS = ("closed_tickets", "raw_mail", "exports", "audit")
PLUGIN_KINDS = {"parked_mail": "parked_mail_days"}
RETIRED = "[removed by retention]"


@dataclass
class Batch:
    """What one batch did (or, in a dry run, would do)."""

    count: int
    blob_keys: list[str] = field(default_factory=list)
    done: bool = True
    note: str = ""


def cutoff(policy: Policy, kind: str) -> datetime | None:
    """The moment before which the kind's data goes; None when the tenant keeps it."""
    days = {
        "closed_tickets": policy.closed_ticket_days,
        "raw_mail": policy.raw_mail_days,
        "parked_mail": policy.parked_mail_days,
    }.get(kind)
    if kind == "exports":
        return now()
    if kind == "audit":
        return now() - timedelta(days=365 * policy.audit_years) if policy.audit_years else None
    return now() - timedelta(days=days) if days else None


def _not_held(tenant_id: uuid.UUID) -> Any:
    active = select(LegalHold).where(
        LegalHold.tenant_id == tenant_id, LegalHold.released_at.is_(None)
    )
    held_tickets = active.with_only_columns(LegalHold.ticket_id).where(
        LegalHold.ticket_id.is_not(None)
    )
    held_people = active.with_only_columns(LegalHold.user_id).where(LegalHold.user_id.is_not(None))
    return not_(or_(Ticket.id.in_(held_tickets), Ticket.created_by.in_(held_people)))


def _closed(tenant_id: uuid.UUID, before: datetime, policy: Policy) -> Any:
    q = select(Ticket.id).where(
        Ticket.tenant_id == tenant_id,
        Ticket.status == "Closed",
        Ticket.closed_at < before,
        _not_held(tenant_id),
    )
    if policy.closed_ticket_action == "anonymise":
        q = q.where(Ticket.subject != RETIRED)
    return q


def _files_of(session: Session, tenant_id: uuid.UUID, ids: list[int]) -> list[str]:
    keys = list(
        session.scalars(
            select(Attachment.file_path).where(
                Attachment.tenant_id == tenant_id, Attachment.ticket_id.in_(ids)
            )
        )
    )
    keys += [
        str(k)
        for k in session.scalars(
            select(InboundKey.raw_path).where(
                InboundKey.tenant_id == tenant_id,
                InboundKey.ticket_id.in_(ids),
                InboundKey.raw_path.is_not(None),
            )
        )
    ]
    return keys


def _closed_tickets(
    session: Session, tenant_id: uuid.UUID, policy: Policy, before: datetime, limit: int
) -> Batch:
    ids = list(session.scalars(_closed(tenant_id, before, policy).order_by(Ticket.id).limit(limit)))
    if not ids:
        return Batch(0)
    keys = _files_of(session, tenant_id, ids)
    session.execute(
        update(InboundKey)
        .where(InboundKey.tenant_id == tenant_id, InboundKey.ticket_id.in_(ids))
        .values(raw_path=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(Attachment)
        .where(Attachment.tenant_id == tenant_id, Attachment.ticket_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    if policy.closed_ticket_action == "delete":
        session.execute(
            update(Ticket)
            .where(Ticket.tenant_id == tenant_id, Ticket.merged_into_id.in_(ids))
            .values(merged_into_id=None)
            .execution_options(synchronize_session=False)
        )
        # The report sums lose what the tickets' facts (deleted with them) added.
        summaries.forget(session, ids)
        session.execute(
            delete(Ticket)
            .where(Ticket.tenant_id == tenant_id, Ticket.id.in_(ids))
            .execution_options(synchronize_session=False)
        )
    else:
        session.execute(
            update(Comment)
            .where(Comment.tenant_id == tenant_id, Comment.ticket_id.in_(ids))
            .values(comment=RETIRED)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Ticket)
            .where(Ticket.tenant_id == tenant_id, Ticket.id.in_(ids))
            .values(subject=RETIRED, description=RETIRED, feedback=None)
            .execution_options(synchronize_session=False)
        )
    return Batch(len(ids), keys, done=len(ids) < limit)


def _raw_mail(session: Session, tenant_id: uuid.UUID, before: datetime, limit: int) -> Batch:
    rows = session.execute(
        select(InboundKey.id, InboundKey.raw_path)
        .outerjoin(Ticket, Ticket.id == InboundKey.ticket_id)
        .where(
            InboundKey.tenant_id == tenant_id,
            InboundKey.raw_path.is_not(None),
            InboundKey.created_at < before,
            or_(InboundKey.ticket_id.is_(None), _not_held(tenant_id)),
        )
        .order_by(InboundKey.id)
        .limit(limit)
    ).all()
    if not rows:
        return Batch(0)
    session.execute(
        update(InboundKey)
        .where(InboundKey.id.in_([r[0] for r in rows]))
        .values(raw_path=None)
        .execution_options(synchronize_session=False)
    )
    return Batch(len(rows), [str(r[1]) for r in rows], done=len(rows) < limit)


def _exports(session: Session, tenant_id: uuid.UUID, before: datetime, limit: int) -> Batch:
    rows = list(
        session.scalars(
            select(PersonExport)
            .where(
                PersonExport.tenant_id == tenant_id,
                PersonExport.blob_key.is_not(None),
                PersonExport.expires_at < before,
            )
            .order_by(PersonExport.id)
            .limit(limit)
        )
    )
    keys = [str(r.blob_key) for r in rows]
    for r in rows:
        r.blob_key, r.status = None, "expired"
    return Batch(len(rows), keys, done=len(rows) < limit)


def prune_audit_function() -> Any:
    """The audit trail's ``prune_audit``, or None where it is not available yet."""
    try:
        return importlib.import_module("core.audit_chain").prune_audit
    except (ImportError, AttributeError):
        return None


def _audit(session: Session, tenant_id: uuid.UUID, before: datetime, keyring: Keyring) -> Batch:
    prune = prune_audit_function()
    if prune is None:
        return Batch(0, note="audit retention is not available yet")
    deleted = prune(session, tenant_id, before, keyring)
    return Batch(sum(int(v) for v in deleted.values()))


def count(session: Session, tenant_id: uuid.UUID, policy: Policy, kind: str) -> int | None:
    """How many of the kind would go now (a dry run); None when the kind is off or unknown."""
    before = cutoff(policy, kind)
    if before is None:
        return None
    if kind == "closed_tickets":
        q = _closed(tenant_id, before, policy).subquery()
    elif kind == "raw_mail":
        q = (
            select(InboundKey.id)
            .outerjoin(Ticket, Ticket.id == InboundKey.ticket_id)
            .where(
                InboundKey.tenant_id == tenant_id,
                InboundKey.raw_path.is_not(None),
                InboundKey.created_at < before,
                or_(InboundKey.ticket_id.is_(None), _not_held(tenant_id)),
            )
            .subquery()
        )
    elif kind == "exports":
        q = (
            select(PersonExport.id)
            .where(
                PersonExport.tenant_id == tenant_id,
                PersonExport.blob_key.is_not(None),
                PersonExport.expires_at < before,
            )
            .subquery()
        )
    else:
        return None
    return int(session.scalar(select(func.count()).select_from(q)) or 0)


def sweep(
    session: Session,
    tenant_id: uuid.UUID,
    policy: Policy,
    kind: str,
    *,
    limit: int,
    keyring: Keyring,
) -> Batch:
    """One batch of at most ``limit`` items of the kind (``done`` once nothing is left)."""
    before = cutoff(policy, kind)
    if before is None:
        return Batch(0)
    if kind == "closed_tickets":
        return _closed_tickets(session, tenant_id, policy, before, limit)
    if kind == "raw_mail":
        return _raw_mail(session, tenant_id, before, limit)
    if kind == "exports":
        return _exports(session, tenant_id, before, limit)
    if kind == "audit":
        return _audit(session, tenant_id, before, keyring)
    raise ValueError(f"unknown retention kind {kind!r}")
