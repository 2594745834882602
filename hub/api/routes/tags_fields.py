"""The tenant's tags (with usage counts, for autocomplete) and custom field definitions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from core.fields import service as field_service
from core.tags import service as tag_service
from hub.api.deps import ActorDep, SessionDep
from hub.api.schemas.tickets import CustomFieldPublic, TagPublic

router = APIRouter(prefix="/api/v1/support", tags=["tags and fields"])


@router.get("/tags/", response_model=list[TagPublic])
def tags(
    actor: ActorDep,
    session: SessionDep,
    prefix: Annotated[str, Query(max_length=50, description="names starting with this")] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[TagPublic]:
    """The tenant's tags by name, with how many tickets carry each (staff and managers)."""
    rows = tag_service.usage(session, actor, prefix=prefix, limit=limit)
    return [TagPublic(id=r[0], name=r[1], tickets=r[2]) for r in rows]


@router.get("/fields/", response_model=list[CustomFieldPublic])
def fields(
    actor: ActorDep,
    session: SessionDep,
    include_inactive: bool = False,
) -> list[CustomFieldPublic]:
    """The tenant's custom fields in their order: what ``custom_fields`` of a ticket takes.
    Everyone of the tenant reads the active ones (a requester fills them in); staff may ask for
    the inactive ones too."""
    rows = field_service.list_fields(
        session, actor.tenant_id, active_only=not (include_inactive and actor.reads_all_tickets)
    )
    return [CustomFieldPublic.model_validate(r) for r in rows]
