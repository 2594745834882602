"""Erasure of a person (GDPR art. 17): identity replaced by a pseudonym, their files and raw
mail gone, their own text removed or redacted (tenant choice), metrics and rollups kept.

Irreversible. The caller commits, then deletes the blobs listed in ``Erased.blob_keys`` (a
rolled-back erasure must not have lost files). The last step scrubs every text and JSON column
of every tenant table for the person's address and name, so nothing core or a plugin copied
elsewhere (notifications, outbox payloads) keeps them; the append-only audit trails are not
rewritten (``APPEND_ONLY``).
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Text, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from core.clock import now
from core.db import Base
from core.errors import Conflict
from core.models import (
    ApiToken,
    AuthLink,
    AuthSession,
    Comment,
    Membership,
    RecoveryCode,
    ReplyDraft,
    Ticket,
    TwoFactor,
    User,
)
from core.permissions import Actor, require_admin
from core.privacy import holds, person, policy
from core.privacy.models import PersonExport
from core.services import audit

ERASED = "person.erased"
REMOVED = "[removed]"


@dataclass
class Erased:
    """What an erasure did: the pseudonym, counts per kind, blobs to delete after commit."""

    pseudonym: str
    counts: dict[str, int]
    blob_keys: list[str] = field(default_factory=list)


def preview(session: Session, actor: Actor, user_id: int) -> dict[str, int]:
    """What an erasure of the member would remove, per kind (core's share)."""
    require_admin(actor, "erase a person")
    who = person.member(session, actor.tenant_id, user_id)
    tenant = actor.tenant_id
    return {
        "tickets": len(person.ticket_ids(session, tenant, who.user_id)),
        "comments": len(person.comment_ids(session, tenant, who.user_id)),
        "attachments": len(person.attachments(session, tenant, who.user_id)),
        "raw_messages": len(person.raw_messages(session, tenant, who.user_id)),
        "exports": int(
            session.scalar(
                select(func.count())
                .select_from(PersonExport)
                .where(PersonExport.tenant_id == tenant, PersonExport.user_id == who.user_id)
            )
            or 0
        ),
    }


def needles_of(email: str, full_name: str) -> list[str]:
    """What identifies the person in free text: the address, its local part when distinctive,
    and the name (whole, and each part of four letters or more)."""
    out = [email.strip().lower()]
    name = full_name.strip()
    if len(name) >= 3:
        out.append(name)
        out += [part for part in name.split() if len(part) >= 4]
    return list(dict.fromkeys(out))


def _pattern(needles: list[str]) -> re.Pattern[str]:
    ordered = sorted(needles, key=len, reverse=True)
    return re.compile("|".join(re.escape(n) for n in ordered), re.IGNORECASE)


# The audit trails are append-only and hash-chained (core.audit_chain; on PostgreSQL a trigger
# refuses any UPDATE): an erasure does not rewrite them. Their rows keep the addresses of the
# people who acted or were acted on; redacting them without breaking the chain is not built yet.
APPEND_ONLY = frozenset({"support_ticket_audit", "tenant_audit", "audit_chain_heads"})


def scrub(session: Session, tenant_id: uuid.UUID, needles: list[str], replacement: str) -> int:
    """Replace the needles in every text and JSON column of every table with a ``tenant_id``
    (the append-only audit trails aside); returns how many rows changed."""
    if not needles:
        return 0
    pattern, changed = _pattern(needles), 0
    for table in Base.metadata.sorted_tables:
        if "tenant_id" not in table.c or not table.primary_key.columns:
            continue
        if table.name in APPEND_ONLY:
            continue
        cols = [c for c in table.c if isinstance(c.type, String | JSON) and not c.primary_key]
        if not cols:
            continue
        conds = [
            func.lower(cast(c, Text)).contains(n.lower(), autoescape=True)
            for c in cols
            for n in needles
        ]
        pk = list(table.primary_key.columns)
        rows = session.execute(
            select(*pk, *cols).where(table.c.tenant_id == tenant_id, or_(*conds))
        ).all()
        for row in rows:
            values: dict[str, Any] = {}
            for c in cols:
                value = row._mapping[c]
                if value is None:
                    continue
                if isinstance(c.type, JSON):
                    text = json.dumps(value, ensure_ascii=False)
                    new = pattern.sub(replacement, text)
                    if new != text:
                        values[c.name] = json.loads(new)
                elif isinstance(value, str):
                    new = pattern.sub(replacement, value)
                    if new != value:
                        values[c.name] = new
            if values:
                session.execute(
                    update(table)
                    .where(*[k == row._mapping[k] for k in pk])
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
                changed += 1
    return changed


def _other_tenants(session: Session, tenant_id: uuid.UUID, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.user_id == user_id, Membership.tenant_id != tenant_id)
        )
        or 0
    )


def erase(session: Session, actor: Actor, user_id: int) -> Erased:
    """Erase the tenant's member (see the module docstring). ``Conflict`` when a legal hold
    covers them or one of their tickets (its reason is in the message), when they erase
    themselves, or when the account belongs to another organisation as well."""
    require_admin(actor, "erase a person")
    tenant = actor.tenant_id
    who = person.member(session, tenant, user_id)
    hold = holds.blocking_person(session, tenant, who.user_id)
    if hold is not None:
        what = "this person" if hold.user_id is not None else f"ticket {hold.ticket_id}"
        raise Conflict(f"a legal hold on {what} blocks erasure: {hold.reason}")
    if actor.user_id == who.user_id:
        raise Conflict("you cannot erase yourself; ask another admin")
    if _other_tenants(session, tenant, who.user_id):
        raise Conflict("this account belongs to another organisation too; the operator erases it")
    mode = policy.get(session, tenant).comment_erasure
    counts = preview(session, actor, user_id)
    pseudonym = f"erased-{secrets.token_hex(6)}"
    needles = needles_of(who.email, who.full_name)
    pattern = _pattern(needles)
    keys: list[str] = []

    for att in person.attachments(session, tenant, who.user_id):
        keys.append(att.file_path)
        session.delete(att)
    for raw in person.raw_messages(session, tenant, who.user_id):
        keys.append(str(raw.raw_path))
        raw.raw_path = None
    for export in session.scalars(
        select(PersonExport).where(
            PersonExport.tenant_id == tenant, PersonExport.user_id == who.user_id
        )
    ):
        if export.blob_key:
            keys.append(export.blob_key)
        session.delete(export)

    def own_text(value: str | None) -> str | None:
        if value is None:
            return None
        return REMOVED if mode == "remove" else pattern.sub(pseudonym, value)

    for comment in session.scalars(
        select(Comment).where(Comment.tenant_id == tenant, Comment.user_id == who.user_id)
    ):
        comment.comment = own_text(comment.comment) or REMOVED
    for ticket in session.scalars(
        select(Ticket).where(Ticket.tenant_id == tenant, Ticket.created_by == who.user_id)
    ):
        # The rating stays (reports count it); the words around it are the person's own.
        ticket.description = own_text(ticket.description) or REMOVED
        ticket.subject = (own_text(ticket.subject) or REMOVED)[:255]
        ticket.feedback = own_text(ticket.feedback)

    user = session.get(User, who.user_id)
    assert user is not None
    user.email = f"{pseudonym}@erased.invalid"
    user.full_name = f"Erased person {pseudonym[-6:]}"
    user.password = None
    user.is_active = False
    for model in (AuthSession, ApiToken, AuthLink, TwoFactor, RecoveryCode):
        session.execute(
            delete(model)
            .where(model.user_id == who.user_id)
            .execution_options(synchronize_session=False)
        )
    # Unsent drafts are the person's own words in this tenant only.
    session.execute(
        delete(ReplyDraft)
        .where(ReplyDraft.tenant_id == tenant, ReplyDraft.user_id == who.user_id)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Membership)
        .where(Membership.tenant_id == tenant, Membership.user_id == who.user_id)
        .values(deactivated_at=now(), skills={})
        .execution_options(synchronize_session=False)
    )
    session.flush()
    counts["other_rows_scrubbed"] = scrub(session, tenant, needles, pseudonym)
    audit.by_actor(
        session,
        actor,
        ERASED,
        target_email=user.email,
        details={"user_id": who.user_id, "counts": counts, "comments": mode},
    )
    return Erased(pseudonym=pseudonym, counts=counts, blob_keys=keys)
