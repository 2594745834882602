"""Helper for the report tests: the rows of the per-day report sums (``core.reports.summaries``)
of a tenant, and the same sums computed again from the facts."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from core.reports import summaries
from hub.context import Hub


def sums(hub: Hub, tenant_id: uuid.UUID) -> dict[str, list[tuple[Any, ...]]]:
    """Every sums table's rows of the tenant that add something, sorted."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with hub.read_session() as s:
        for name, (model, keys, amounts) in summaries.TABLES.items():
            cols = [getattr(model, c) for c in (*keys, *amounts)]
            out[name] = sorted(
                tuple(row)
                for row in s.execute(select(*cols).where(model.tenant_id == tenant_id))
                if any(row[len(keys) :])
            )
    return out


def refilled(hub: Hub, tenant_id: uuid.UUID) -> dict[str, list[tuple[Any, ...]]]:
    """The sums as ``summaries.refill`` computes them from the facts (SQL on PostgreSQL)."""
    with hub.session() as s:
        summaries.refill(s, tenant_id)
    return sums(hub, tenant_id)
