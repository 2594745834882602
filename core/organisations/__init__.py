"""Organisations (the customer companies a tenant serves) and people: email domains that a
requester's address joins, a person's page, merging two people who are one.

Modules: ``models`` (tables), ``service`` (organisations, domains, who belongs where),
``people`` (a person's tickets and identities), ``merge`` (two people into one)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session


def organisation_peers(session: Session, tenant_id: uuid.UUID, user_id: int) -> list[int]:
    """The user ids of the person's organisation in the tenant, the person included (only the
    person when they belong to none). For the likely-duplicates search."""
    from core.organisations.service import peers

    return peers(session, tenant_id, user_id)


__all__ = ["organisation_peers"]
