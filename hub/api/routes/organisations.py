"""Organisations and people: ``/api/v1/support/organisations/`` (CRUD; writes for admins) and
``/api/v1/support/people/{id}/`` (a person's identities and tickets, their organisation, and
merging two people who are one). Staff and managers read; end users never (403)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from core.organisations import merge as person_merge
from core.organisations import people as person_pages
from core.organisations import service as orgs
from core.permissions import Actor, require_reader
from core.services.tickets import TicketFilter, list_tickets
from hub.api.deps import ActorDep, HubDep, ObjectId, SessionDep, client_ip
from hub.api.schemas.organisations import (
    IdentityPublic,
    MergePreview,
    MergeResult,
    OrganisationCreate,
    OrganisationPage,
    OrganisationPublic,
    OrganisationRef,
    OrganisationUpdate,
    PersonBrief,
    PersonBriefPage,
    PersonMerge,
    PersonOrganisation,
    PersonPublic,
)
from hub.api.schemas.tickets import TicketPage, TicketPublic
from hub.context import Hub

router = APIRouter(prefix="/api/v1/support", tags=["organisations"])
MAX_ID = 2**63 - 1


def plugin_merge(hub: Hub, tenant_id: uuid.UUID) -> person_merge.PluginMerge:
    """The tenant's plugins' share of a merge: ``hub_merge_person`` in the same session."""

    def run(
        session: Session, source_id: int, source_email: str, target_id: int, target_email: str
    ) -> int:
        results = hub.hooks(tenant_id).hub_merge_person(
            session=session,
            tenant_id=tenant_id,
            source_id=source_id,
            source_email=source_email,
            target_id=target_id,
            target_email=target_email,
            hub=hub,
        )
        return sum(int(n or 0) for n in results)

    return run


def _public(summary: orgs.OrgSummary, joined: int | None = None) -> OrganisationPublic:
    return OrganisationPublic(
        id=summary.id,
        name=summary.name,
        notes=summary.notes,
        domains=summary.domains,
        people=summary.people,
        joined=joined,
    )


@router.get("/organisations/", response_model=OrganisationPage)
def list_organisations(
    actor: ActorDep,
    session: SessionDep,
    q: Annotated[str, Query(max_length=200, description="a part of the name")] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> OrganisationPage:
    """The tenant's organisations by name."""
    rows, nxt = orgs.list_organisations(session, actor, q=q, limit=limit, cursor=cursor)
    return OrganisationPage(results=[_public(r) for r in rows], next_cursor=nxt)


@router.post("/organisations/", status_code=201, response_model=OrganisationPublic)
def create_organisation(
    body: OrganisationCreate,
    actor: ActorDep,
    session: SessionDep,
    request: Request,
    response: Response,
) -> OrganisationPublic:
    """A new organisation (admins); the tenant's end users of its domains join it."""
    org, joined = orgs.create(
        session,
        actor,
        name=body.name,
        domains=body.domains,
        notes=body.notes,
        ip=client_ip(request),
    )
    out = _public(orgs.summary(session, actor.tenant_id, org), joined)
    session.commit()
    response.headers["Location"] = f"/api/v1/support/organisations/{out.id}/"
    return out


@router.get("/organisations/{org_id}/", response_model=OrganisationPublic)
def organisation(org_id: ObjectId, actor: ActorDep, session: SessionDep) -> OrganisationPublic:
    """One organisation with its domains and how many people it has."""
    require_reader(actor, "organisations")
    return _public(
        orgs.summary(session, actor.tenant_id, orgs.get(session, actor.tenant_id, org_id))
    )


@router.patch("/organisations/{org_id}/", response_model=OrganisationPublic)
def update_organisation(
    org_id: ObjectId,
    body: OrganisationUpdate,
    actor: ActorDep,
    session: SessionDep,
    request: Request,
) -> OrganisationPublic:
    """Change the name, the domains (the whole list) or the notes (admins)."""
    org, joined = orgs.update(
        session,
        actor,
        org_id,
        name=body.name,
        domains=body.domains,
        notes=body.notes,
        ip=client_ip(request),
    )
    out = _public(orgs.summary(session, actor.tenant_id, org), joined)
    session.commit()
    return out


@router.delete("/organisations/{org_id}/", status_code=204, response_class=Response)
def delete_organisation(
    org_id: ObjectId, actor: ActorDep, session: SessionDep, request: Request
) -> Response:
    """Delete an organisation (admins): its people belong to none; their tickets stay."""
    orgs.remove(session, actor, org_id, ip=client_ip(request))
    session.commit()
    return Response(status_code=204)


@router.get("/organisations/{org_id}/people/", response_model=PersonBriefPage)
def organisation_people(
    org_id: ObjectId,
    actor: ActorDep,
    session: SessionDep,
    after: Annotated[int | None, Query(ge=0, le=2_147_483_647)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PersonBriefPage:
    """The organisation's people, by id (its tickets: the ticket list's ``organisation``)."""
    require_reader(actor, "organisations")
    orgs.get(session, actor.tenant_id, org_id)
    rows, nxt = orgs.members_of(session, actor.tenant_id, org_id, limit=limit, after=after)
    return PersonBriefPage(
        results=[PersonBrief(id=r[0], email=r[1], full_name=r[2] or "") for r in rows],
        next_after=nxt,
    )


@router.get("/people/", response_model=list[PersonBrief])
def find_people(
    actor: ActorDep,
    session: SessionDep,
    q: Annotated[
        str, Query(min_length=2, max_length=200, description="part of an address or name")
    ],
) -> list[PersonBrief]:
    """End users of the tenant matching ``q`` (at most 10): the requester field's suggestions."""
    return [
        PersonBrief(id=r[0], email=r[1], full_name=r[2] or "")
        for r in person_pages.find_people(session, actor, q)
    ]


def person_public(p: person_pages.Profile) -> PersonPublic:
    return PersonPublic(
        id=p.user_id,
        email=p.email,
        full_name=p.full_name,
        role=p.role,
        active=p.active,
        organisation=(
            OrganisationRef(id=p.organisation_id, name=p.organisation_name or "")
            if p.organisation_id is not None
            else None
        ),
        identities=[
            IdentityPublic(kind=i.kind, value=i.value, label=i.label) for i in p.identities
        ],
        tickets_by_channel=p.channels,
    )


@router.get("/people/{user_id}/", response_model=PersonPublic)
def person(user_id: ObjectId, actor: ActorDep, session: SessionDep) -> PersonPublic:
    """A member of the tenant: identities (address, Slack and Teams accounts), organisation,
    and how many tickets they opened through each channel."""
    return person_public(person_pages.profile(session, actor, user_id))


def _ticket_page(
    session: Session, actor: Actor, flt: TicketFilter, limit: int, cursor: str | None
) -> TicketPage:
    rows, nxt = list_tickets(session, actor, flt, limit=limit, cursor=cursor)
    return TicketPage(results=[TicketPublic.model_validate(t) for t in rows], next_cursor=nxt)


@router.get("/people/{user_id}/tickets/", response_model=TicketPage)
def person_tickets(
    user_id: ObjectId,
    actor: ActorDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> TicketPage:
    """Every ticket the person opened in this tenant, whatever the channel, newest first."""
    person_pages.profile(session, actor, user_id)
    return _ticket_page(session, actor, TicketFilter(created_by=user_id), limit, cursor)


@router.put("/people/{user_id}/organisation/", response_model=PersonPublic)
def set_organisation(
    user_id: ObjectId,
    body: PersonOrganisation,
    actor: ActorDep,
    session: SessionDep,
    request: Request,
) -> PersonPublic:
    """Put the person in an organisation, or in none (agents and admins)."""
    orgs.set_person_organisation(
        session, actor, user_id, body.organisation_id, ip=client_ip(request)
    )
    out = person_public(person_pages.profile(session, actor, user_id))
    session.commit()
    return out


@router.get("/people/{user_id}/merge/", response_model=MergePreview)
def merge_preview(
    user_id: ObjectId,
    actor: ActorDep,
    session: SessionDep,
    target_id: Annotated[int, Query(ge=1, le=2_147_483_647)],
) -> MergePreview:
    """What merging this person into ``target_id`` would move (nothing is changed)."""
    return MergePreview(
        source_id=user_id,
        target_id=target_id,
        moves=person_merge.preview(session, actor, user_id, target_id),
    )


@router.post("/people/{user_id}/merge/", response_model=MergeResult)
def merge(
    user_id: ObjectId,
    body: PersonMerge,
    actor: ActorDep,
    session: SessionDep,
    hub: HubDep,
    request: Request,
) -> MergeResult:
    """Merge this person into ``target_id`` (agents and admins; both end users of this tenant):
    their tickets, comments, identities and the rest move, and this person is deactivated."""
    moved = person_merge.merge_people(
        session,
        actor,
        user_id,
        body.target_id,
        plugins=plugin_merge(hub, actor.tenant_id),
        ip=client_ip(request),
    )
    session.commit()
    hub.kick()
    return MergeResult(source_id=user_id, target_id=body.target_id, moved=moved)
