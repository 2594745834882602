"""Tamper-evident audit trails: each tenant's ``support_ticket_audit`` and ``tenant_audit`` rows
form two hash chains (sha256 over the previous link and the row's canonical JSON).

Rows are inserted unsealed by whoever writes them (no lock on the hot path); ``seal_all`` (the
built-in ``audit.seal`` task, every minute, and ``hub audit seal``) links them in id order under
the head's row lock; ``verify`` walks a chain and reports the first row changed, removed or
inserted out of order, and counts the rows still unsealed. ``prune_audit`` is audit retention;
``redact`` is an erasure's rewriting of the rows that name the person, vouched for by its own row.
"""

from core.audit_chain.chain import CHAINS, CHECKPOINT_INFO
from core.audit_chain.prune import prune_audit
from core.audit_chain.redact import Redaction, redact
from core.audit_chain.seal import seal_all, seal_chain
from core.audit_chain.verify import ChainReport, Finding, tenants_with_trails, verify

__all__ = [
    "CHAINS",
    "CHECKPOINT_INFO",
    "ChainReport",
    "Finding",
    "Redaction",
    "prune_audit",
    "redact",
    "seal_all",
    "seal_chain",
    "tenants_with_trails",
    "verify",
]
