"""Audit retention, the one path that deletes audit rows: it removes the oldest sealed rows of a
tenant and leaves a signed checkpoint, so what remains still verifies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from core.audit_chain.chain import CHAINS, CHECKPOINT_INFO, checkpoint_message, sign
from core.audit_chain.seal import lock_head, seal_chain
from core.clock import now
from core.crypto import Keyring


def prune_audit(
    session: Session, tenant_id: uuid.UUID, before: datetime, keyring: Keyring
) -> dict[str, int]:
    """Delete the tenant's audit rows (both trails) created before ``before``: the longest run
    of sealed rows from the start of the chain that are all older, so the chain is cut at one
    point. Seals what waits first; the caller commits. Returns the rows deleted per chain."""
    deleted: dict[str, int] = {}
    for chain in CHAINS:
        while seal_chain(session, chain, tenant_id):
            pass
        head = lock_head(session, tenant_id, chain.name)
        t = chain.table
        first_kept = session.scalar(
            select(func.min(t.c.seq)).where(
                t.c.tenant_id == tenant_id, t.c.seq.is_not(None), t.c.created_at >= before
            )
        )
        cut = head.last_seq if first_kept is None else first_kept - 1
        if cut <= head.pruned_seq:
            deleted[chain.name] = 0
            continue
        last_hash = session.scalar(
            select(t.c.row_hash).where(t.c.tenant_id == tenant_id, t.c.seq == cut)
        )
        _allow_prune(session, True)
        result: Any = session.execute(
            delete(t).where(t.c.tenant_id == tenant_id, t.c.seq.is_not(None), t.c.seq <= cut)
        )
        gone = int(result.rowcount)
        _allow_prune(session, False)
        head.pruned_seq, head.pruned_hash = cut, last_hash or ""
        head.pruned_count += gone
        head.checkpoint_at = now()
        head.checkpoint_mac = sign(
            keyring.derive(CHECKPOINT_INFO),
            checkpoint_message(tenant_id, chain.name, cut, head.pruned_hash, head.pruned_count),
        )
        session.flush()
        deleted[chain.name] = gone
    return deleted


def _allow_prune(session: Session, on: bool) -> None:
    # PostgreSQL's trigger refuses DELETE on audit rows unless this transaction-local setting is
    # on (migration 0033_audit_chain); SQLite has no trigger.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT set_config('hub.audit_prune', :v, true)"), {"v": "on" if on else "off"}
        )
