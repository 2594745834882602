"""The admin's Email templates page (/admin/email-templates): every kind of mail, its variables,
edit, preview for a chosen ticket, reset to the built-in wording; the tenant's signature; the
templates that failed at send time (the built-in one was sent)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from core.errors import HubError
from core.mail_templates import service
from core.mail_templates.render import RenderedMail, Source
from core.models import TenantAudit
from hub import rating_links
from hub.api.deps import SessionDep, client_ip
from hub.web.i18n import N_
from hub.web.render import redirect, render
from hub.web.session import PageUser, PostUser, admin_only, staff_only

router = APIRouter(prefix="/admin/email-templates")
BASE = "/admin/email-templates"
SOURCE_MAX = 20_000


@router.get("", response_class=HTMLResponse)
def page(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    """The kinds of mail, which are customised, the signature, recent failures."""
    admin_only(me)
    failures = list(
        session.scalars(
            select(TenantAudit)
            .where(
                TenantAudit.tenant_id == me.actor.tenant_id, TenantAudit.action == service.FAILED
            )
            .order_by(TenantAudit.id.desc())
            .limit(10)
        )
    )
    return render(
        request,
        session,
        me,
        "admin/email_templates.html",
        templates=service.list_templates(session, me.actor),
        signature=service.tenant_signature(session, me.actor),
        failures=failures,
        rating_scale=rating_links.scale_name(session, me.actor.tenant_id),
    )


@router.post("/rating-scale", response_model=None)
def save_rating_scale(
    request: Request,
    me: PostUser,
    session: SessionDep,
    rating_scale: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """The scale of the resolution mail's rating links: 1 to 5 stars, or thumbs up/down."""
    admin_only(me)
    try:
        rating_links.set_scale(session, me.actor, rating_scale, ip=client_ip(request))
    except HubError as exc:
        session.rollback()
        return redirect(BASE, flash=exc.message, error=True)
    session.commit()
    return redirect(BASE, flash=N_("Rating scale saved."))


@router.post("/signature", response_model=None)
def save_signature(
    request: Request,
    me: PostUser,
    session: SessionDep,
    signature: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Save the tenant's signature."""
    admin_only(me)
    try:
        service.set_tenant_signature(session, me.actor, signature, ip=client_ip(request))
    except HubError as exc:
        session.rollback()
        return redirect(BASE, flash=exc.message, error=True)
    session.commit()
    return redirect(BASE, flash=N_("Signature saved."))


def _edit(
    request: Request,
    me: PageUser,
    session: SessionDep,
    kind: str,
    *,
    source: Source | None = None,
    preview: RenderedMail | None = None,
    ticket_id: int | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    view = service.get_template(session, me.actor, kind)
    if source is None:
        source = Source(view.subject, view.text_body, view.html_body)
    return render(
        request,
        session,
        me,
        "admin/email_template.html",
        status=status,
        view=view,
        source=source,
        preview=preview,
        ticket_id=ticket_id,
        error=error,
    )


@router.get("/{kind}", response_class=HTMLResponse)
def edit(request: Request, kind: str, me: PageUser, session: SessionDep) -> HTMLResponse:
    """One kind: its sources, variables, and the preview and reset actions."""
    admin_only(me)
    return _edit(request, me, session, kind)


@router.post("/{kind}", response_model=None)
def save(
    request: Request,
    kind: str,
    me: PostUser,
    session: SessionDep,
    subject: Annotated[str, Form(max_length=500)],
    text_body: Annotated[str, Form(max_length=SOURCE_MAX)],
    html_body: Annotated[str, Form(max_length=SOURCE_MAX)] = "",
    action: Annotated[str, Form(max_length=10)] = "save",
    ticket_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Save, or preview (for a ticket of the tenant) without saving; a refused template is
    shown again with the reason."""
    admin_only(me)
    source = Source(
        subject, text_body.replace("\r\n", "\n"), html_body.replace("\r\n", "\n") or None
    )
    chosen = int(ticket_id) if ticket_id.strip().isdigit() else None
    try:
        if action == "preview":
            mail = service.preview(session, me.actor, kind, ticket_id=chosen, source=source)
            return _edit(request, me, session, kind, source=source, preview=mail, ticket_id=chosen)
        service.save_template(
            session,
            me.actor,
            kind,
            subject=source.subject,
            text_body=source.text,
            html_body=source.html,
            ip=client_ip(request),
        )
    except HubError as exc:
        session.rollback()
        if exc.status == 404 and action != "preview":
            raise
        return _edit(
            request,
            me,
            session,
            kind,
            source=source,
            error=exc.message,
            ticket_id=chosen,
            status=422,
        )
    session.commit()
    return redirect(f"{BASE}/{kind}", flash=N_("Template saved."))


@router.post("/{kind}/reset", response_model=None)
def reset(request: Request, kind: str, me: PostUser, session: SessionDep) -> Response:
    """Back to the built-in wording."""
    admin_only(me)
    service.reset_template(session, me.actor, kind, ip=client_ip(request))
    session.commit()
    return redirect(f"{BASE}/{kind}", flash=N_("Template reset to the built-in wording."))


account_router = APIRouter(prefix="/account")


@account_router.get("/signature", response_class=HTMLResponse)
def own_signature(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    """An agent's own signature under their replies by mail."""
    staff_only(me)
    return render(
        request,
        session,
        me,
        "account_signature.html",
        signature=service.own_signature(session, me.actor),
    )


@account_router.post("/signature", response_model=None)
def save_own_signature(
    me: PostUser,
    session: SessionDep,
    signature: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Save the agent's own signature (empty: none)."""
    staff_only(me)
    try:
        service.set_own_signature(session, me.actor, signature)
    except HubError as exc:
        session.rollback()
        return redirect("/account/signature", flash=exc.message, error=True)
    session.commit()
    return redirect("/account/signature", flash=N_("Your signature is saved."))
