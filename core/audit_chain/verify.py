"""Verification: walk a tenant's chain in seq order and report the first broken link. A row an
erasure redacted is checked against that erasure's sealed row instead of its own hash (see
core.audit_chain.redact)."""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit_chain.chain import (
    BY_NAME,
    CHAINS,
    ERASURE_ACTION,
    TENANT,
    Chain,
    checkpoint_message,
    link_hash,
    sign,
)
from core.audit_chain.redact import current_lines, summarize
from core.models import AuditChainHead

PAGE = 2000


@dataclass(frozen=True)
class Finding:
    """The first problem of a chain: ``kind`` is ``changed`` (the row's content or hash differs),
    ``removed`` (a seq is missing: the row before ``row_id`` is gone, or rows after the head),
    ``inserted`` (the row does not follow its predecessor: inserted or moved out of order) or
    ``checkpoint`` (the pruning checkpoint's signature is wrong)."""

    kind: str
    seq: int
    row_id: int | None
    message: str


@dataclass(frozen=True)
class ChainReport:
    """One chain of one tenant: how many sealed rows checked out, how many wait unsealed, the
    rows pruned before them, and the first problem (None: intact)."""

    tenant_id: uuid.UUID
    chain: str
    sealed: int
    unsealed: int
    pruned: int
    finding: Finding | None

    @property
    def ok(self) -> bool:
        return self.finding is None


def _checkpoint_ok(head: AuditChainHead, keys: Sequence[bytes]) -> bool:
    if head.pruned_seq == 0:
        return True
    message = checkpoint_message(
        head.tenant_id, head.chain, head.pruned_seq, head.pruned_hash, head.pruned_count
    )
    return any(hmac.compare_digest(sign(k, message), head.checkpoint_mac) for k in keys)


def _statements(session: Session, tenant_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    """What the tenant's sealed erasure rows say of each redaction, per chain (the latest
    statement of a redaction counts: a later erasure restates the ones it redacted again)."""
    t = TENANT.table
    out: dict[str, dict[str, Any]] = {}
    for details in session.scalars(
        select(t.c.details)
        .where(t.c.tenant_id == tenant_id, t.c.action == ERASURE_ACTION, t.c.seq.is_not(None))
        .order_by(t.c.seq)
    ):
        red = (details or {}).get("redaction") if isinstance(details, dict) else None
        if not isinstance(red, dict) or not isinstance(red.get("id"), str):
            continue
        out[red["id"]] = {k: v for k, v in red.items() if k in BY_NAME}
        for rid, chains in (red.get("restated") or {}).items():
            if isinstance(chains, dict):
                out[str(rid)] = {k: v for k, v in chains.items() if k in BY_NAME}
    return out


def _unvouched(session: Session, chain: Chain, tenant_id: uuid.UUID, pruned_seq: int) -> set[str]:
    """The redactions marked on this chain's rows that no sealed erasure row vouches for: none
    names them, or the marked rows do not match its count and digest (where retention cut into
    a redaction's rows, only that no more rows are marked than it redacted)."""
    t = chain.table
    marked = set(
        session.scalars(
            select(t.c.redacted_by)
            .where(t.c.tenant_id == tenant_id, t.c.redacted_by.is_not(None))
            .distinct()
        )
    )
    if not marked:
        return set()
    said = _statements(session, tenant_id)
    bad: set[str] = set()
    for rid in marked:
        claim = said.get(rid, {}).get(chain.name)
        if not isinstance(claim, dict):
            bad.add(rid)
            continue
        now_ = summarize(current_lines(session, chain, tenant_id, rid))
        if pruned_seq >= int(claim.get("first") or 0):
            if now_["rows"] > int(claim.get("rows") or 0):
                bad.add(rid)
        elif (now_["rows"], now_["digest"]) != (claim.get("rows"), claim.get("digest")):
            bad.add(rid)
    return bad


def verify_chain(
    session: Session, tenant_id: uuid.UUID, chain_name: str, keys: Sequence[bytes]
) -> ChainReport:
    """Check one chain from its checkpoint (or its start) to its head, a page at a time."""
    chain = BY_NAME[chain_name]
    t = chain.table
    head = session.get(AuditChainHead, (tenant_id, chain_name))
    unsealed = (
        session.scalar(
            select(func.count()).select_from(t).where(t.c.tenant_id == tenant_id, t.c.seq.is_(None))
        )
        or 0
    )
    pruned = head.pruned_count if head else 0

    def report(sealed: int, finding: Finding | None) -> ChainReport:
        return ChainReport(tenant_id, chain_name, sealed, unsealed, pruned, finding)

    expected, prev = 1, ""
    if head is not None:
        if not _checkpoint_ok(head, keys):
            return report(
                0,
                Finding(
                    "checkpoint",
                    head.pruned_seq,
                    None,
                    "the pruning checkpoint's signature does not match",
                ),
            )
        expected, prev = head.pruned_seq + 1, head.pruned_hash
    sealed, after = 0, expected - 1
    unvouched = _unvouched(session, chain, tenant_id, head.pruned_seq if head else 0)
    cols = [*chain.content, t.c.seq, t.c.prev_hash, t.c.row_hash, t.c.salt, t.c.redacted_by]
    while True:
        rows = (
            session.execute(
                select(*cols)
                .where(t.c.tenant_id == tenant_id, t.c.seq > after)
                .order_by(t.c.seq)
                .limit(PAGE)
            )
            .mappings()
            .all()
        )
        for row in rows:
            seq, row_id = row["seq"], row["id"]
            if seq != expected:
                return report(
                    sealed,
                    Finding(
                        "removed",
                        expected,
                        row_id,
                        f"seq {expected}..{seq - 1} missing: removed before row {row_id}",
                    ),
                )
            if row["prev_hash"] != prev:
                return report(
                    sealed,
                    Finding(
                        "inserted",
                        seq,
                        row_id,
                        f"row {row_id} (seq {seq}) does not follow its predecessor: "
                        "inserted or moved out of order",
                    ),
                )
            content = {c.name: row[c.name] for c in chain.content}
            rid = row["redacted_by"]
            if rid is not None:
                # Redacted by an erasure: its link stays, its content is vouched for by the
                # erasure's sealed row (core.audit_chain.redact).
                if rid in unvouched:
                    return report(
                        sealed,
                        Finding(
                            "changed",
                            seq,
                            row_id,
                            f"row {row_id} (seq {seq}) was changed: marked redacted, but no "
                            "erasure row vouches for it",
                        ),
                    )
            elif link_hash(prev, seq, content, row["salt"]) != row["row_hash"]:
                return report(
                    sealed, Finding("changed", seq, row_id, f"row {row_id} (seq {seq}) was changed")
                )
            prev, expected, sealed = row["row_hash"], expected + 1, sealed + 1
        if len(rows) < PAGE:
            break
        after = rows[-1]["seq"]
    if head is not None and head.last_seq > expected - 1:
        return report(
            sealed,
            Finding(
                "removed",
                expected,
                None,
                f"seq {expected}..{head.last_seq} missing: the last rows were removed",
            ),
        )
    if head is not None and head.last_seq == expected - 1 and head.last_hash != prev:
        return report(
            sealed,
            Finding("changed", expected - 1, None, "the chain's head does not match its last row"),
        )
    return report(sealed, None)


def tenants_with_trails(session: Session) -> list[uuid.UUID]:
    """Every tenant with an audit row or a chain head."""
    found: set[uuid.UUID] = set(session.scalars(select(AuditChainHead.tenant_id)))
    for chain in CHAINS:
        found.update(session.scalars(select(chain.table.c.tenant_id).distinct()))
    return sorted(found, key=str)


def verify(session: Session, tenant_id: uuid.UUID, keys: Sequence[bytes]) -> list[ChainReport]:
    """Both chains of a tenant (ticket trail, tenant trail)."""
    return [verify_chain(session, tenant_id, c.name, keys) for c in CHAINS]
