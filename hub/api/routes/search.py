"""``/api/v1/admin/search/``: the tenant's search language (admins)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import search
from core.permissions import Actor, require_admin
from hub.api.deps import ActorDep, SessionDep
from hub.api.schemas.search import SearchSettingsPublic, SearchSettingsUpdate

router = APIRouter(prefix="/api/v1/admin/search", tags=["admin"])


def settings_of(session: Session, actor: Actor) -> SearchSettingsPublic:
    entries = session.scalar(
        select(func.count())
        .select_from(search.SearchEntry)
        .where(search.SearchEntry.tenant_id == actor.tenant_id)
    )
    return SearchSettingsPublic(
        language=search.language(session, actor.tenant_id),  # type: ignore[arg-type]
        languages=list(search.LANGUAGES),
        entries=int(entries or 0),
    )


@router.get("/", response_model=SearchSettingsPublic)
def get_settings(actor: ActorDep, session: SessionDep) -> SearchSettingsPublic:
    """The tenant's search language and the size of its index."""
    require_admin(actor, "read the search settings")
    return settings_of(session, actor)


@router.put("/", response_model=SearchSettingsPublic)
def put_settings(
    body: SearchSettingsUpdate, actor: ActorDep, session: SessionDep
) -> SearchSettingsPublic:
    """Set the search language; the tenant's index follows in the same transaction (audited)."""
    search.set_language(session, actor, body.language)
    session.commit()
    return settings_of(session, actor)
