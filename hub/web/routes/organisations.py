"""Organisations and people in the console (agents, admins; managers read): ``/organisations``
(list, search, admins create), ``/organisations/{id}`` (domains, people, tickets; admins edit
and delete), ``/people/{id}`` (a requester's tickets across channels, identities and
organisation; staff set the organisation and merge two people), and the requester suggestions
of the new-ticket form. End users never see them (404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from core.errors import HubError, Invalid, NotFound
from core.models import User
from core.organisations import merge as person_merge
from core.organisations import people as person_pages
from core.organisations import service as orgs
from core.services.tickets import TicketFilter, list_tickets
from hub.api.deps import HubDep, SessionDep, client_ip
from hub.api.routes.organisations import plugin_merge
from hub.web.i18n import N_
from hub.web.render import form_failure, redirect, render
from hub.web.session import PageUser, PostUser, WebUser, admin_only, readers_only, staff_only

router = APIRouter()
OrgId = Annotated[int, Path(ge=1, le=2**63 - 1)]
UserId = Annotated[int, Path(ge=1, le=2_147_483_647)]
PAGE = 25
Cursor = Annotated[str | None, Query(max_length=500)]


def _domains(text: str) -> list[str]:
    return [d for d in text.replace(",", " ").split() if d]


def _list_page(
    request: Request,
    session: SessionDep,
    me: WebUser,
    q: str,
    cursor: str | None,
    form: dict[str, str] | None = None,
    error: HubError | None = None,
) -> HTMLResponse:
    rows, nxt = orgs.list_organisations(session, me.actor, q=q, limit=PAGE, cursor=cursor)
    return render(
        request,
        session,
        me,
        "organisations/list.html",
        **form_failure(error),
        organisations=rows,
        next_cursor=nxt,
        q=q,
        paged=bool(cursor),
        form=form or {},
    )


@router.get("/organisations", response_class=HTMLResponse)
def organisation_list(
    request: Request,
    me: PageUser,
    session: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
    cursor: Cursor = None,
) -> HTMLResponse:
    """The tenant's organisations by name, searchable; admins add one here."""
    readers_only(me)
    return _list_page(request, session, me, q.strip(), cursor)


@router.post("/organisations", response_model=None)
def organisation_create(
    request: Request,
    me: PostUser,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)] = "",
    domains: Annotated[str, Form(max_length=5000)] = "",
    notes: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Add an organisation (admins); existing people of its domains join it."""
    admin_only(me)
    try:
        org, joined = orgs.create(
            session,
            me.actor,
            name=name,
            domains=_domains(domains),
            notes=notes,
            ip=client_ip(request),
        )
    except HubError as exc:
        session.rollback()
        form = {"name": name, "domains": domains, "notes": notes}
        return _list_page(request, session, me, "", None, form, exc)
    session.commit()
    return redirect(
        f"/organisations/{org.id}",
        flash=N_("%(name)s added; %(n)s person joined it.")
        if joined == 1
        else N_("%(name)s added; %(n)s people joined it."),
        args={"name": org.name, "n": joined},
    )


def _detail(
    request: Request,
    session: SessionDep,
    me: WebUser,
    org_id: int,
    *,
    after: int | None = None,
    cursor: str | None = None,
    form: dict[str, str] | None = None,
    error: HubError | None = None,
) -> HTMLResponse:
    org = orgs.get(session, me.actor.tenant_id, org_id)
    summary = orgs.summary(session, me.actor.tenant_id, org)
    people, next_after = orgs.members_of(
        session, me.actor.tenant_id, org.id, limit=PAGE, after=after
    )
    tickets, next_cursor = list_tickets(
        session, me.actor, TicketFilter(organisation=org.id), limit=PAGE, cursor=cursor
    )
    names = dict(
        session.execute(
            select(User.id, User.full_name).where(User.id.in_({t.created_by for t in tickets}))
        ).all()
    )
    return render(
        request,
        session,
        me,
        "organisations/detail.html",
        **form_failure(error),
        org=summary,
        people=people,
        next_after=next_after,
        people_paged=after is not None,
        tickets=tickets,
        next_cursor=next_cursor,
        tickets_paged=bool(cursor),
        names=names,
        form=form
        or {"name": summary.name, "domains": " ".join(summary.domains), "notes": summary.notes},
    )


@router.get("/organisations/{org_id}", response_class=HTMLResponse)
def organisation_page(
    request: Request,
    me: PageUser,
    session: SessionDep,
    org_id: OrgId,
    after: Annotated[int | None, Query(ge=0, le=2_147_483_647)] = None,
    cursor: Cursor = None,
) -> HTMLResponse:
    """An organisation: its domains, its people and its tickets (each paged)."""
    readers_only(me)
    return _detail(request, session, me, org_id, after=after, cursor=cursor)


@router.post("/organisations/{org_id}", response_model=None)
def organisation_save(
    request: Request,
    me: PostUser,
    session: SessionDep,
    org_id: OrgId,
    name: Annotated[str, Form(max_length=200)] = "",
    domains: Annotated[str, Form(max_length=5000)] = "",
    notes: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Save an organisation's name, domains and notes (admins)."""
    admin_only(me)
    try:
        org, joined = orgs.update(
            session,
            me.actor,
            org_id,
            name=name,
            domains=_domains(domains),
            notes=notes,
            ip=client_ip(request),
        )
    except HubError as exc:
        session.rollback()
        if isinstance(exc, NotFound):
            raise
        form = {"name": name, "domains": domains, "notes": notes}
        return _detail(request, session, me, org_id, form=form, error=exc)
    session.commit()
    if not joined:
        text = N_("%(name)s saved.")
    elif joined == 1:
        text = N_("%(name)s saved; %(n)s person joined it.")
    else:
        text = N_("%(name)s saved; %(n)s people joined it.")
    return redirect(f"/organisations/{org.id}", flash=text, args={"name": org.name, "n": joined})


@router.post("/organisations/{org_id}/delete", response_model=None)
def organisation_delete(
    request: Request, me: PostUser, session: SessionDep, org_id: OrgId
) -> Response:
    """Delete an organisation (admins); its people and tickets stay."""
    admin_only(me)
    name = orgs.get(session, me.actor.tenant_id, org_id).name
    orgs.remove(session, me.actor, org_id, ip=client_ip(request))
    session.commit()
    return redirect("/organisations", flash=N_("%(name)s was deleted."), args={"name": name})


# ------------------------------------------------------------------ people


def _person(
    request: Request,
    session: SessionDep,
    me: WebUser,
    user_id: int,
    *,
    cursor: str | None = None,
    target: str = "",
    error: HubError | None = None,
) -> HTMLResponse:
    profile = person_pages.profile(session, me.actor, user_id)
    tickets, next_cursor = list_tickets(
        session, me.actor, TicketFilter(created_by=user_id), limit=PAGE, cursor=cursor
    )
    choices, _ = orgs.list_organisations(session, me.actor, limit=200)
    return render(
        request,
        session,
        me,
        "people/person.html",
        **form_failure(error),
        person=profile,
        tickets=tickets,
        next_cursor=next_cursor,
        paged=bool(cursor),
        organisations=choices,
        target=target,
    )


@router.get("/people/suggest", response_class=HTMLResponse)
def suggest(
    request: Request,
    me: PageUser,
    session: SessionDep,
    requester_email: Annotated[str, Query(max_length=254)] = "",
    target: Annotated[str, Query(max_length=254)] = "",
) -> HTMLResponse:
    """The options of a person field's list (an htmx fragment): known end users matching."""
    staff_only(me)
    found = person_pages.find_people(session, me.actor, requester_email or target)
    return render(request, session, me, "people/_suggestions.html", people=found)


@router.get("/people/{user_id}", response_class=HTMLResponse)
def person_page(
    request: Request, me: PageUser, session: SessionDep, user_id: UserId, cursor: Cursor = None
) -> HTMLResponse:
    """A person: every ticket they opened here, their identities and organisation."""
    readers_only(me)
    return _person(request, session, me, user_id, cursor=cursor)


@router.post("/people/{user_id}/organisation", response_model=None)
def person_organisation(
    request: Request,
    me: PostUser,
    session: SessionDep,
    user_id: UserId,
    organisation_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Put the person in an organisation, or in none (agents and admins)."""
    staff_only(me)
    try:
        if organisation_id and not organisation_id.isdigit():
            raise Invalid("choose an organisation", field="organisation_id")
        org = orgs.set_person_organisation(
            session,
            me.actor,
            user_id,
            int(organisation_id) if organisation_id else None,
            ip=client_ip(request),
        )
    except HubError as exc:
        session.rollback()
        if isinstance(exc, NotFound) and exc.field is None and "person" in exc.message:
            raise
        return _person(request, session, me, user_id, error=exc)
    session.commit()
    return redirect(
        f"/people/{user_id}",
        flash=N_("Organisation set to %(name)s.") if org else N_("Organisation removed."),
        args={"name": org.name} if org else None,
    )


def _target_id(session: SessionDep, me: WebUser, target: str) -> int:
    address = target.strip().lower()
    if not address:
        raise Invalid("enter the address of the other person", field="target")
    if address.isdigit() and len(address) < 10:
        return int(address)
    found = session.scalar(select(User.id).where(func.lower(User.email) == address))
    if found is None:
        raise Invalid(f"nobody here has the address {target.strip()}", field="target")
    return int(found)


@router.get("/people/{user_id}/merge", response_class=HTMLResponse)
def merge_confirm(
    request: Request,
    me: PageUser,
    session: SessionDep,
    user_id: UserId,
    target: Annotated[str, Query(max_length=254)] = "",
) -> HTMLResponse:
    """The confirmation: who is merged into whom, and what moves."""
    staff_only(me)
    try:
        target_id = _target_id(session, me, target)
        moves = person_merge.preview(session, me.actor, user_id, target_id)
    except HubError as exc:
        if isinstance(exc, NotFound) and exc.field == "source":
            raise
        return _person(request, session, me, user_id, target=target, error=exc)
    return render(
        request,
        session,
        me,
        "people/merge.html",
        source=person_pages.profile(session, me.actor, user_id),
        target=person_pages.profile(session, me.actor, target_id),
        moves=moves,
    )


@router.post("/people/{user_id}/merge", response_model=None)
def merge(
    request: Request,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    user_id: UserId,
    target_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
) -> Response:
    """Merge the person into the target: everything moves, the person is deactivated."""
    staff_only(me)
    try:
        moved = person_merge.merge_people(
            session,
            me.actor,
            user_id,
            target_id,
            plugins=plugin_merge(hub, me.actor.tenant_id),
            ip=client_ip(request),
        )
    except HubError as exc:
        session.rollback()
        return _person(request, session, me, user_id, error=exc)
    session.commit()
    hub.kick()
    return redirect(
        f"/people/{target_id}",
        flash=N_("Merged: %(tickets)s tickets and %(comments)s comments moved here."),
        args={"tickets": moved.get("tickets", 0), "comments": moved.get("comments", 0)},
    )
