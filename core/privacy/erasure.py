"""Erasure of a person (GDPR art. 17): identity replaced by a pseudonym, their files and raw
mail gone, their own text removed or redacted (tenant choice), metrics and rollups kept.

Irreversible. The caller commits, then deletes the blobs listed in ``Erased.blob_keys`` (a
rolled-back erasure must not have lost files). The last steps scrub every text and JSON column
of every tenant table for the person's address and name, so nothing core or a plugin copied
elsewhere (notifications, outbox payloads) keeps them, and redact the tenant's audit rows that
name them without breaking the hash chain (core.audit_chain.redact): the erasure's own audit
row, which names only the pseudonym, records that redaction and is sealed with it.

An account that also belongs to another organisation keeps its sign-in and everything the other
organisation holds: this tenant's references to it move to a fresh pseudonymous account (the
membership with them, deactivated), its sessions, tokens and links for this tenant go, and the
scrub and the redaction cover this tenant only. Where the account is this tenant's alone, the
account itself is pseudonymised and all its sign-in material goes.

How the person is found in free text (``needles_of``, ``pattern_of``): the address and the full
name anywhere, case-insensitively, but not inside a longer word or address; each part of the
name of four letters or more only as a whole word written as a name (capitalised or in capitals),
so that "Mark" goes and "mark as done", "market" or "Marksman" stay.
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

from core.audit_chain.chain import ERASURE_ACTION, TENANT
from core.audit_chain.redact import redact
from core.audit_chain.seal import seal_chain
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

ERASED = ERASURE_ACTION
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


MIN_PART = 4


def _parts(full_name: str) -> list[str]:
    """The parts of the name that may stand for the person alone: four letters or more (not
    "Li", "von", "Dr."), the full name being a part itself only when it is one word."""
    name = " ".join(full_name.split())
    parts = [p.strip(".,;:()\"'") for p in name.split(" ")] if " " in name else []
    return [p for p in dict.fromkeys(parts) if sum(ch.isalpha() for ch in p) >= MIN_PART]


def needles_of(email: str, full_name: str) -> list[str]:
    """What identifies the person in free text, for finding the rows to look at (case-insensitive
    substrings, a superset of what ``pattern_of`` replaces): the address, the full name, and each
    part of it of four letters or more."""
    out = [email.strip().lower()]
    name = " ".join(full_name.split())
    if len(name) >= 3:
        out.append(name)
        out += _parts(name)
    return list(dict.fromkeys(out))


def pattern_of(email: str, full_name: str) -> re.Pattern[str]:
    """What is replaced: the address (any case) where it is not part of a longer address
    ("joann@x.example" is not "ann@x.example", nor is "ann@x.example.org"); the full name (any
    case) and the name's parts (as written as names only: capitalised or in capitals) where
    they are not inside a longer word. Longer alternatives come first, so the address and the
    full name go whole before any part."""
    address = email.strip().lower()
    alternatives = [rf"(?<![\w.+-])(?i:{re.escape(address)})(?![\w-]|\.\w)"] if address else []
    name = " ".join(full_name.split())
    words: list[str] = [rf"(?i:{re.escape(name)})"] if len(name) >= 3 else []
    for part in sorted(_parts(name), key=len, reverse=True):
        forms = {part, part.upper(), part[:1].upper() + part[1:]}
        words += [re.escape(f) for f in sorted(forms, key=len, reverse=True) if f[:1].isupper()]
    if words:
        alternatives.append(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)")
    return re.compile("|".join(alternatives) or r"(?!)")


def _pattern(needles: list[str]) -> re.Pattern[str]:
    """The replacement pattern of needles as ``needles_of`` made them (address, full name,
    parts), for callers that only kept the list."""
    email = needles[0] if needles else ""
    name = needles[1] if len(needles) > 1 else ""
    return pattern_of(email, name)


# The audit trails are append-only and hash-chained (core.audit_chain; on PostgreSQL a trigger
# refuses any UPDATE but the sanctioned ones): the scrub leaves them to core.audit_chain.redact.
APPEND_ONLY = frozenset({"support_ticket_audit", "tenant_audit", "audit_chain_heads"})


def scrub(
    session: Session,
    tenant_id: uuid.UUID,
    needles: list[str],
    replacement: str,
    pattern: re.Pattern[str] | None = None,
) -> int:
    """Replace the person (``pattern``, found by the ``needles``) in every text and JSON column
    of every table with a ``tenant_id``, this tenant's rows only (the append-only audit trails
    aside: ``core.audit_chain.redact`` rewrites those); returns how many rows changed."""
    if not needles:
        return 0
    pattern, changed = pattern or _pattern(needles), 0
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
                    new = pattern.sub(lambda _m: replacement, text)
                    if new != text:
                        values[c.name] = json.loads(new)
                elif isinstance(value, str):
                    new = pattern.sub(lambda _m: replacement, value)
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


def shares_account(session: Session, tenant_id: uuid.UUID, user_id: int) -> bool:
    """Whether the account also belongs to another organisation (then it stays, and only this
    tenant's share of the person is erased)."""
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.user_id == user_id, Membership.tenant_id != tenant_id)
        )
    )


# Sign-in material bound to one tenant: for a shared account only this tenant's goes.
SIGN_IN = (AuthSession, ApiToken, AuthLink)


def _move_references(
    session: Session, tenant_id: uuid.UUID, user_id: int, placeholder_id: int
) -> int:
    """Point every reference of the tenant's rows to the account at the placeholder instead:
    each column of a tenant table with a foreign key to ``auth_user`` (core's and plugins'),
    the audit trails aside (their redaction does it). Returns how many rows moved."""
    moved = 0
    for table in Base.metadata.sorted_tables:
        if "tenant_id" not in table.c or table.name in APPEND_ONLY:
            continue
        for col in table.c:
            if not any(fk.column.table.name == User.__tablename__ for fk in col.foreign_keys):
                continue
            result: Any = session.execute(
                update(table)
                .where(table.c.tenant_id == tenant_id, col == user_id)
                .values({col.name: placeholder_id})
                .execution_options(synchronize_session=False)
            )
            moved += int(result.rowcount or 0)
    return moved


def erase(session: Session, actor: Actor, user_id: int) -> Erased:
    """Erase the tenant's member (see the module docstring). ``Conflict`` when a legal hold
    covers them or one of their tickets (its reason is in the message), or when they erase
    themselves. An account other organisations share keeps its sign-in there."""
    require_admin(actor, "erase a person")
    tenant = actor.tenant_id
    who = person.member(session, tenant, user_id)
    hold = holds.blocking_person(session, tenant, who.user_id)
    if hold is not None:
        what = "this person" if hold.user_id is not None else f"ticket {hold.ticket_id}"
        raise Conflict(f"a legal hold on {what} blocks erasure: {hold.reason}")
    if actor.user_id == who.user_id:
        raise Conflict("you cannot erase yourself; ask another admin")
    shared = shares_account(session, tenant, who.user_id)
    mode = policy.get(session, tenant).comment_erasure
    counts = preview(session, actor, user_id)
    pseudonym = f"erased-{secrets.token_hex(6)}"
    needles = needles_of(who.email, who.full_name)
    pattern = pattern_of(who.email, who.full_name)
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
        return REMOVED if mode == "remove" else pattern.sub(lambda _m: pseudonym, value)

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

    # Unsent drafts are the person's own words in this tenant only.
    session.execute(
        delete(ReplyDraft)
        .where(ReplyDraft.tenant_id == tenant, ReplyDraft.user_id == who.user_id)
        .execution_options(synchronize_session=False)
    )
    if shared:
        # The account stays for the other organisations: this tenant's share of it moves to a
        # pseudonymous account of its own, which cannot sign in.
        subject = User(
            email=f"{pseudonym}@erased.invalid",
            full_name=f"Erased person {pseudonym[-6:]}",
            password=None,
            is_active=False,
            date_joined=now(),
        )
        session.add(subject)
        session.flush()
        for model in SIGN_IN:
            session.execute(
                delete(model)
                .where(model.tenant_id == tenant, model.user_id == who.user_id)
                .execution_options(synchronize_session=False)
            )
        counts["references_moved"] = _move_references(session, tenant, who.user_id, subject.id)
    else:
        user = session.get(User, who.user_id)
        assert user is not None
        subject = user
        user.email = f"{pseudonym}@erased.invalid"
        user.full_name = f"Erased person {pseudonym[-6:]}"
        user.password = None
        user.is_active = False
        for every in (*SIGN_IN, TwoFactor, RecoveryCode):
            session.execute(
                delete(every)
                .where(every.user_id == who.user_id)
                .execution_options(synchronize_session=False)
            )
    session.execute(
        update(Membership)
        .where(Membership.tenant_id == tenant, Membership.user_id == subject.id)
        .values(deactivated_at=now(), skills={})
        .execution_options(synchronize_session=False)
    )
    session.flush()
    counts["other_rows_scrubbed"] = scrub(session, tenant, needles, pseudonym, pattern)
    redaction = redact(
        session,
        tenant,
        needles=needles,
        pattern=pattern,
        replacement=pseudonym,
        user_id=who.user_id,
        new_user_id=subject.id if shared else None,
    )
    counts["audit_rows_redacted"] = redaction.rows
    audit.by_actor(
        session,
        actor,
        ERASED,
        target_email=subject.email,
        details={
            "user_id": subject.id,
            "counts": counts,
            "comments": mode,
            "shared_account": shared,
            "redaction": redaction.record(),
        },
    )
    session.flush()
    # Sealed now, under the chain heads the redaction locked: the row that vouches for the
    # redacted rows is part of the chain when the erasure commits.
    while seal_chain(session, TENANT, tenant):
        pass
    return Erased(pseudonym=pseudonym, counts=counts, blob_keys=keys)
