"""Mail templates of the tenant (admins): list, read, save, reset, preview; the signature."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from core.mail_templates import service
from core.mail_templates.render import Source
from hub.api.deps import ActorDep, SessionDep, client_ip
from hub.api.schemas.mail_templates import (
    MailPreviewPublic,
    MailPreviewRequest,
    MailTemplatePublic,
    MailTemplateUpdate,
    SignaturePublic,
    SignatureUpdate,
)

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


@router.get("/email-templates/", response_model=list[MailTemplatePublic])
def list_templates(actor: ActorDep, session: SessionDep) -> list[Any]:
    """Every kind of mail, with the tenant's own sources where it has them."""
    return service.list_templates(session, actor)


@router.get("/email-templates/{kind}/", response_model=MailTemplatePublic)
def get_template(kind: str, actor: ActorDep, session: SessionDep) -> Any:
    """One kind's sources in force and its variables."""
    return service.get_template(session, actor, kind)


@router.put("/email-templates/{kind}/", response_model=MailTemplatePublic)
def save_template(
    kind: str, body: MailTemplateUpdate, request: Request, actor: ActorDep, session: SessionDep
) -> Any:
    """Save the tenant's sources of a kind (422 names the variables on an unknown one)."""
    view = service.save_template(
        session,
        actor,
        kind,
        subject=body.subject,
        text_body=body.text_body,
        html_body=body.html_body,
        ip=client_ip(request),
    )
    session.commit()
    return view


@router.delete("/email-templates/{kind}/", response_model=MailTemplatePublic)
def reset_template(kind: str, request: Request, actor: ActorDep, session: SessionDep) -> Any:
    """Back to the built-in wording of a kind."""
    view = service.reset_template(session, actor, kind, ip=client_ip(request))
    session.commit()
    return view


@router.post("/email-templates/{kind}/preview/", response_model=MailPreviewPublic)
def preview(kind: str, body: MailPreviewRequest, actor: ActorDep, session: SessionDep) -> Any:
    """The mail a kind makes for a ticket of the tenant, with the stored or the given sources."""
    source = None
    if body.subject is not None or body.text_body is not None:
        source = Source(body.subject or "", body.text_body or "", body.html_body or None)
    mail = service.preview(session, actor, kind, ticket_id=body.ticket_id, source=source)
    return {"subject": mail.subject, "text": mail.text, "html": mail.html}


@router.get("/email-signature/", response_model=SignaturePublic)
def get_signature(actor: ActorDep, session: SessionDep) -> dict[str, str]:
    """The tenant's signature under every ticket mail."""
    return {"signature": service.tenant_signature(session, actor)}


@router.put("/email-signature/", response_model=SignaturePublic)
def set_signature(
    body: SignatureUpdate, request: Request, actor: ActorDep, session: SessionDep
) -> dict[str, str]:
    """Set the tenant's signature (empty: none)."""
    text = service.set_tenant_signature(session, actor, body.signature, ip=client_ip(request))
    session.commit()
    return {"signature": text}
