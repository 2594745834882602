"""External ids of tickets (mail Message-IDs, Slack thread ids, participants, ...): recorded once
per tenant, kind and value, and looked up by the ``references`` threading rule.

The look-up has two forms behind one ``newest`` method, so that the rule is the same wherever it
runs: ``StoredReferences`` asks the database each time (one message), ``BatchReferences`` holds
what one query fetched for a whole batch plus what the batch's earlier messages recorded.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol, cast

from sqlalchemy import Connection, Table, bindparam, select
from sqlalchemy.orm import Session

from core.clock import now
from core.intake.message import InboundMessage
from core.models import ExternalRef, Ticket

RefKey = tuple[uuid.UUID, str, str]


def reference_values(msg: InboundMessage) -> list[str]:
    """The stored ids a message refers to, as the rule follows them (the first 50, cut to the
    column's size)."""
    return [r[:500] for r in msg.references[:50] if r]


def recorded_values(msg: InboundMessage) -> list[tuple[str, str]]:
    """The (kind, value) ids a message records for its ticket: its own id and its participants."""
    wanted = [(msg.ref_kind, msg.message_ref[:500])] if msg.message_ref else []
    return wanted + [("participant", address.lower()[:500]) for address in msg.participants]


class References(Protocol):
    """The ``references`` rule's view of the stored ids."""

    def newest(self, tenant_id: uuid.UUID, kind: str, values: list[str]) -> Ticket | None:
        """The ticket of the newest of these ids of the tenant, or None."""
        ...


class StoredReferences:
    """The stored ids, one query per look-up (for a single message outside a batch)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def newest(self, tenant_id: uuid.UUID, kind: str, values: list[str]) -> Ticket | None:
        return self.session.scalar(
            select(Ticket)
            .join(ExternalRef, ExternalRef.ticket_id == Ticket.id)
            .where(
                ExternalRef.tenant_id == tenant_id,
                ExternalRef.kind == kind,
                ExternalRef.value.in_(values),
            )
            .order_by(ExternalRef.id.desc())
            .limit(1)
        )


_REFS = (
    select(ExternalRef.tenant_id, ExternalRef.kind, ExternalRef.value, ExternalRef.id, Ticket)
    .join(Ticket, Ticket.id == ExternalRef.ticket_id)
    .where(
        ExternalRef.tenant_id.in_(bindparam("tenants", expanding=True)),
        ExternalRef.kind.in_(bindparam("kinds", expanding=True)),
        ExternalRef.value.in_(bindparam("values", expanding=True)),
    )
)


class BatchReferences:
    """The ids a batch refers to or records, fetched in one query, and those its earlier
    messages recorded (the newest: a reply to a message of the batch threads onto its ticket).
    ``newest`` orders them as ``StoredReferences`` does: by row id, the batch's after."""

    def __init__(self, found: dict[RefKey, tuple[int, Ticket]]) -> None:
        self.found = found
        self.order = max((order for order, _ in found.values()), default=0)

    @classmethod
    def fetch(
        cls, session: Session, items: list[tuple[uuid.UUID, InboundMessage]]
    ) -> BatchReferences:
        values = sorted(
            {v for _, m in items for v in reference_values(m)}
            | {v for _, m in items for _, v in recorded_values(m)}
        )
        found: dict[RefKey, tuple[int, Ticket]] = {}
        if values:
            params = {
                "tenants": sorted({tenant_id for tenant_id, _ in items}),
                "kinds": sorted({m.ref_kind for _, m in items} | {"participant"}),
                "values": values,
            }
            for tenant_id, kind, value, ref_id, ticket in session.execute(_REFS, params):
                if ticket.tenant_id == tenant_id:
                    found[(tenant_id, kind, value)] = (ref_id, ticket)
        return cls(found)

    def newest(self, tenant_id: uuid.UUID, kind: str, values: list[str]) -> Ticket | None:
        hits = [self.found[k] for k in ((tenant_id, kind, v) for v in values) if k in self.found]
        return max(hits, key=lambda hit: hit[0])[1] if hits else None

    def record(self, tenant_id: uuid.UUID, kind: str, value: str, ticket: Ticket) -> bool:
        """Note an id a message of the batch records; False when it is held already (unique
        per tenant, kind and value: the first one stays)."""
        if (tenant_id, kind, value) in self.found:
            return False
        self.order += 1
        self.found[(tenant_id, kind, value)] = (self.order, ticket)
        return True

    def ticket_ids(self) -> list[int]:
        """The stored tickets the batch's ids point at."""
        return sorted({t.id for _, t in self.found.values() if t.id is not None})


def add_ref(
    session: Session, ticket: Ticket, kind: str, value: str, meta: dict[str, Any] | None = None
) -> None:
    """Record an external id of the ticket once (unique per tenant, kind and value)."""
    value = value[:500]
    exists = session.scalar(
        select(ExternalRef.id).where(
            ExternalRef.tenant_id == ticket.tenant_id,
            ExternalRef.kind == kind,
            ExternalRef.value == value,
        )
    )
    if exists is None:
        session.add(
            ExternalRef(
                tenant_id=ticket.tenant_id,
                ticket_id=ticket.id,
                kind=kind,
                value=value,
                meta=meta or {},
                created_at=now(),
            )
        )


_INSERT_REFS: dict[str, Any] = {}


def record_refs(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """A batch's new ids, in one ``INSERT ... ON CONFLICT DO NOTHING`` (the first one stays),
    the statement built once per dialect."""
    if not rows:
        return
    dialect = connection.dialect.name
    stmt = _INSERT_REFS.get(dialect)
    if stmt is None:
        from sqlalchemy.dialects import postgresql, sqlite

        make = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = _INSERT_REFS[dialect] = make(
            cast(Table, ExternalRef.__table__)
        ).on_conflict_do_nothing(index_elements=["tenant_id", "kind", "value"])
    connection.execute(stmt, rows)
