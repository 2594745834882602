"""The two audit trails of a tenant as hash chains: which table, which columns, the canonical
form of a row and the hash that links it to the previous one."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Column, Table

from core.models import Audit, TenantAudit

# Not hashed as content: the links themselves, the sealer's salt (hashed, but as the salt) and
# the mark of a redaction (core.audit_chain.redact).
CHAIN_FIELDS = ("seq", "prev_hash", "row_hash", "salt", "redacted_by")
# The action of an erasure's own row (core.privacy.erasure), whose details name the redaction.
ERASURE_ACTION = "person.erased"
CHECKPOINT_INFO = b"teleops-hub/v1/audit-checkpoint"


@dataclass(frozen=True)
class Chain:
    """One trail: ``ticket`` (``support_ticket_audit``) or ``tenant`` (``tenant_audit``)."""

    name: str
    table: Table
    # The columns that can name a person: the only ones a redaction may rewrite (and the
    # PostgreSQL trigger's arguments, migration 0050_audit_redaction).
    personal: tuple[str, ...]

    @property
    def content(self) -> list[Column[Any]]:
        """Every column the hash covers: all of them but the chain fields."""
        return [c for c in self.table.c if c.name not in CHAIN_FIELDS]


TICKET = Chain(
    "ticket",
    cast(Table, Audit.__table__),
    ("performed_by", "old_value", "new_value", "details"),
)
TENANT = Chain(
    "tenant",
    cast(Table, TenantAudit.__table__),
    ("actor_id", "actor_email", "ip", "target_email", "details"),
)
CHAINS = (TICKET, TENANT)
BY_NAME = {c.name: c for c in CHAINS}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def canonical(seq: int, values: dict[str, Any], salt: str | None = None) -> str:
    """The row as hashed: its seq and content columns, as sorted compact JSON (datetimes in UTC
    with microseconds, UUIDs as text), so that SQLite and PostgreSQL give the same bytes. Rows
    sealed since migration 0050 carry a random ``salt`` too; older rows have none, and hash as
    they always did."""
    body = {k: _plain(v) for k, v in values.items()}
    body["seq"] = seq
    if salt is not None:
        body["\x00salt"] = salt  # no column can be called that
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def link_hash(prev_hash: str, seq: int, values: dict[str, Any], salt: str | None = None) -> str:
    """sha256 over the previous link's hash and the row's canonical form."""
    return hashlib.sha256(f"{prev_hash}\n{canonical(seq, values, salt)}".encode()).hexdigest()


def checkpoint_message(
    tenant_id: uuid.UUID, chain: str, seq: int, row_hash: str, count: int
) -> str:
    """What a pruning checkpoint signs: the chain, the last deleted link and how many went."""
    return f"{tenant_id}|{chain}|{seq}|{row_hash}|{count}"


def sign(key: bytes, message: str) -> str:
    """HMAC-SHA256 of a checkpoint under one key."""
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()
