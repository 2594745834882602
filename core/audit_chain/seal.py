"""The sealer: links unsealed audit rows into their tenant's chain, in id order, in batches.

Writers (intake's bulk ``audit_many`` among them) insert rows without chain fields, so the hot
path takes no lock. The sealer takes the chain head's row lock (``SELECT ... FOR UPDATE``; SQLite
has one writer anyway), so two sealers never hand out the same seq. A row committed late, with a
lower id than rows already sealed, simply gets the next seq: the chain order is ``seq``. Each row
gets a random salt in its hash (see core.audit_chain.redact for why).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from core.audit_chain.chain import CHAINS, Chain, link_hash
from core.models import AuditChainHead
from core.services.once import insert_ignore

BATCH = 1000


def lock_head(session: Session, tenant_id: uuid.UUID, chain: str) -> AuditChainHead:
    """The chain's head row, created if missing, locked until the transaction ends."""
    insert_ignore(
        session,
        AuditChainHead,
        [
            {
                "tenant_id": tenant_id,
                "chain": chain,
                "last_seq": 0,
                "last_hash": "",
                "pruned_seq": 0,
                "pruned_hash": "",
                "pruned_count": 0,
                "checkpoint_mac": "",
            }
        ],
        ["tenant_id", "chain"],
        AuditChainHead.chain,
    )
    head = session.scalars(
        select(AuditChainHead)
        .where(AuditChainHead.tenant_id == tenant_id, AuditChainHead.chain == chain)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return head


def seal_chain(session: Session, chain: Chain, tenant_id: uuid.UUID, limit: int = BATCH) -> int:
    """Seal up to ``limit`` rows of one tenant's chain; the caller commits. Returns how many."""
    head = lock_head(session, tenant_id, chain.name)
    t = chain.table
    rows = (
        session.execute(
            select(*chain.content)
            .where(t.c.tenant_id == tenant_id, t.c.seq.is_(None))
            .order_by(t.c.id)
            .limit(limit)
        )
        .mappings()
        .all()
    )
    if not rows:
        return 0
    seq, prev = head.last_seq, head.last_hash
    links: list[dict[str, Any]] = []
    for row in rows:
        seq += 1
        salt = secrets.token_hex(16)
        digest = link_hash(prev, seq, dict(row), salt)
        links.append(
            {"b_id": row["id"], "b_seq": seq, "b_prev": prev, "b_hash": digest, "b_salt": salt}
        )
        prev = digest
    session.connection().execute(
        update(t)
        .where(t.c.id == bindparam("b_id"), t.c.seq.is_(None))
        .values(
            seq=bindparam("b_seq"),
            prev_hash=bindparam("b_prev"),
            row_hash=bindparam("b_hash"),
            salt=bindparam("b_salt"),
        ),
        links,
    )
    head.last_seq, head.last_hash = seq, prev
    session.flush()
    return len(links)


def unsealed_tenants(session: Session, chain: Chain) -> list[uuid.UUID]:
    """Tenants with rows waiting in this chain (read through the partial index of unsealed rows)."""
    t = chain.table
    return list(session.scalars(select(t.c.tenant_id).where(t.c.seq.is_(None)).distinct()))


def seal_all(session: Session, *, tenant_id: uuid.UUID | None = None, limit: int = BATCH) -> int:
    """Seal everything waiting (one tenant or all), committing after each batch."""
    total = 0
    for chain in CHAINS:
        tenants = [tenant_id] if tenant_id else unsealed_tenants(session, chain)
        session.commit()
        for tid in tenants:
            while True:
                done = seal_chain(session, chain, tid, limit)
                session.commit()
                total += done
                if done < limit:
                    break
    return total
