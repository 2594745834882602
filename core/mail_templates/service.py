"""A tenant's mail templates: read, save (validated), reset, preview, and ``render_mail``, which
every mail of the hub goes through.

A template that fails at send time (a variable a caller did not give, a filter that raised)
never loses the mail: the built-in wording is sent, and the failure is logged and audited
(``mail_template.failed``) where the tenant's admins read it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import TemplateError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Invalid, NotFound
from core.i18n import format_when
from core.i18n import service as i18n_service
from core.mail_templates.catalog import KINDS, STATUS_LABELS, TRANSLATED
from core.mail_templates.models import MailSignature, MailTemplate
from core.mail_templates.render import RenderedMail, Source, builtin, render, validate
from core.models import Tenant, Ticket, User
from core.permissions import Actor, require_admin
from core.services import audit

log = logging.getLogger("core.mail_templates")
CHANGED, RESET, FAILED = "mail_template.changed", "mail_template.reset", "mail_template.failed"
SIGNATURE_SETTING = "mail_signature"
SIGNATURE_MAX = 2000


@dataclass(frozen=True)
class TemplateView:
    """A kind as the admin page and the API show it: the sources in force, whether they are
    the tenant's own, and the variables."""

    kind: str
    title: str
    subject: str
    text_body: str
    html_body: str | None
    customised: bool
    variables: dict[str, str]


def _row(session: Session, tenant_id: uuid.UUID, kind: str) -> MailTemplate | None:
    return session.scalar(
        select(MailTemplate).where(MailTemplate.tenant_id == tenant_id, MailTemplate.kind == kind)
    )


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise NotFound(f"no mail kind {kind!r}; the kinds are: {', '.join(KINDS)}")
    return kind


def _view(kind: str, row: MailTemplate | None) -> TemplateView:
    spec = KINDS[kind]
    if row is None:
        return TemplateView(kind, spec.title, spec.subject, spec.text, None, False, spec.variables)
    return TemplateView(
        kind, spec.title, row.subject, row.text_body, row.html_body, True, spec.variables
    )


def list_templates(session: Session, actor: Actor) -> list[TemplateView]:
    """Every kind, in the catalog's order, with the tenant's own sources where it has them."""
    require_admin(actor, "edit mail templates")
    rows = {
        r.kind: r
        for r in session.scalars(
            select(MailTemplate).where(MailTemplate.tenant_id == actor.tenant_id)
        )
    }
    return [_view(kind, rows.get(kind)) for kind in KINDS]


def get_template(session: Session, actor: Actor, kind: str) -> TemplateView:
    """One kind's sources in force."""
    require_admin(actor, "edit mail templates")
    return _view(_kind(kind), _row(session, actor.tenant_id, kind))


def save_template(
    session: Session,
    actor: Actor,
    kind: str,
    *,
    subject: str,
    text_body: str,
    html_body: str | None = None,
    ip: str = "",
) -> TemplateView:
    """Store the tenant's own sources of a kind, after ``validate`` (422 naming the variables)."""
    require_admin(actor, "edit mail templates")
    _kind(kind)
    html_body = html_body if html_body and html_body.strip() else None
    source = Source(subject, text_body, html_body)
    validate(kind, source)
    row = _row(session, actor.tenant_id, kind)
    if row is None:
        row = MailTemplate(tenant_id=actor.tenant_id, kind=kind)
        session.add(row)
    row.subject, row.text_body, row.html_body = subject, text_body, html_body
    row.updated_by, row.updated_at = actor.user_id, now()
    audit.by_actor(session, actor, CHANGED, ip=ip, details={"kind": kind})
    session.flush()
    return _view(kind, row)


def reset_template(session: Session, actor: Actor, kind: str, *, ip: str = "") -> TemplateView:
    """Back to the built-in wording of a kind."""
    require_admin(actor, "edit mail templates")
    row = _row(session, actor.tenant_id, _kind(kind))
    if row is not None:
        session.delete(row)
        audit.by_actor(session, actor, RESET, ip=ip, details={"kind": kind})
        session.flush()
    return _view(kind, None)


def preview(
    session: Session,
    actor: Actor,
    kind: str,
    *,
    ticket_id: int | None = None,
    source: Source | None = None,
) -> RenderedMail:
    """The mail a kind makes with the given (or stored) sources, for one of the tenant's
    tickets (its values), or with sample values when no ticket is chosen."""
    from core.mail_templates.catalog import sample

    require_admin(actor, "edit mail templates")
    _kind(kind)
    values = sample(kind)
    if ticket_id is not None:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None or ticket.tenant_id != actor.tenant_id:
            raise NotFound("ticket not found")
        values = {**values, **ticket_values(session, ticket, base_url="")}
        values["url"] = values["ticket"]["url"]
    values["tenant"] = tenant_values(session, actor.tenant_id)
    if source is None:
        row = _row(session, actor.tenant_id, kind)
        source = Source(row.subject, row.text_body, row.html_body) if row else builtin(kind)
    else:
        validate(kind, source)
    return render(kind, source, values)


def ticket_values(session: Session, ticket: Ticket, *, base_url: str) -> dict[str, Any]:
    """A stored ticket as template variables (for a preview)."""
    requester = session.get(User, ticket.created_by)
    return {
        "ticket": {
            "id": ticket.id,
            "subject": ticket.subject,
            "status": ticket.status,
            "priority": ticket.priority,
            "category": ticket.category,
            "url": f"{base_url.rstrip('/')}/tickets/{ticket.id}",
            "requester": person_values(requester),
        }
    }


def person_values(user: Any) -> dict[str, str]:
    """A person (a ``User``, a ``Person`` snapshot or None) as ``{name, email}``."""
    if user is None:
        return {"name": "", "email": ""}
    name = getattr(user, "name", None) or getattr(user, "full_name", "") or ""
    return {"name": name, "email": getattr(user, "email", "") or ""}


def tenant_values(session: Session, tenant_id: uuid.UUID) -> dict[str, str]:
    """The tenant as ``{name}``."""
    return {"name": session.scalar(select(Tenant.name).where(Tenant.id == tenant_id)) or ""}


def signature(session: Session, tenant_id: uuid.UUID, author_id: int | None = None) -> str:
    """The agent's own signature (when ``author_id`` has one) above the tenant's."""
    parts = []
    if author_id is not None:
        own = session.get(MailSignature, (tenant_id, author_id))
        if own is not None and own.text.strip():
            parts.append(own.text.strip())
    settings = session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id)) or {}
    tenant_sig = settings.get(SIGNATURE_SETTING)
    if isinstance(tenant_sig, str) and tenant_sig.strip():
        parts.append(tenant_sig.strip())
    return "\n\n".join(parts)


def _check_signature(text: str) -> str:
    text = text.replace("\r\n", "\n").strip()
    if len(text) > SIGNATURE_MAX:
        raise Invalid(f"a signature is at most {SIGNATURE_MAX} characters", field="signature")
    return text


def tenant_signature(session: Session, actor: Actor) -> str:
    """The tenant's signature (admins)."""
    require_admin(actor, "edit mail templates")
    value = (session.scalar(select(Tenant.settings).where(Tenant.id == actor.tenant_id)) or {}).get(
        SIGNATURE_SETTING
    )
    return value if isinstance(value, str) else ""


def set_tenant_signature(session: Session, actor: Actor, text: str, *, ip: str = "") -> str:
    """The tenant's signature under every ticket mail (empty: none)."""
    require_admin(actor, "edit mail templates")
    text = _check_signature(text)
    tenant = session.get(Tenant, actor.tenant_id)
    assert tenant is not None
    tenant.settings = {**(tenant.settings or {}), SIGNATURE_SETTING: text}
    audit.by_actor(session, actor, CHANGED, ip=ip, details={"signature": "tenant"})
    return text


def own_signature(session: Session, actor: Actor) -> str:
    """The signed-in agent's own signature in this tenant."""
    if actor.user_id is None:
        return ""
    row = session.get(MailSignature, (actor.tenant_id, actor.user_id))
    return row.text if row else ""


def set_own_signature(session: Session, actor: Actor, text: str) -> str:
    """The signed-in agent's (or admin's) signature under their replies by mail."""
    if not actor.is_staff or actor.user_id is None:
        from core.errors import Forbidden

        raise Forbidden("signatures are for agents and admins")
    text = _check_signature(text)
    row = session.get(MailSignature, (actor.tenant_id, actor.user_id))
    if row is None:
        row = MailSignature(tenant_id=actor.tenant_id, user_id=actor.user_id, text=text)
        session.add(row)
    row.text, row.updated_at = text, now()
    return text


def render_mail(
    session: Session,
    tenant_id: uuid.UUID,
    kind: str,
    variables: dict[str, Any],
    *,
    author_id: int | None = None,
    report: bool = True,
    at: datetime | None = None,
) -> RenderedMail:
    """The mail of a kind for a tenant: its own template, else the built-in one; a tenant
    template that fails is replaced by the built-in one and reported, never a lost mail.

    ``tenant`` and ``signature`` are filled in when the caller leaves them out (the signature
    of ``author_id``, an agent replying, above the tenant's). The failure is audited in
    ``session`` unless ``report`` is False (a read session: the caller calls
    ``report_failure`` in a session of its own).

    The mail is written for its recipient (``variables["recipient"]["email"]``): their language
    (the built-in wording's translation; the ``html lang``) and their time zone for ``when``
    (``at``, the time of the event, else now)."""
    _kind(kind)
    values = dict(variables)
    recipient = values.get("recipient")
    email = recipient.get("email") if isinstance(recipient, dict) else None
    who = i18n_service.recipient(session, tenant_id, email if isinstance(email, str) else None)
    row = _row(session, tenant_id, kind)
    # The wording's language (the HTML part's lang, how times and statuses read): a translated
    # built-in's, else English; a tenant's own template: the tenant's default language, if set.
    built_lang = who.locale if kind in TRANSLATED.get(who.locale, {}) else "en"
    own_lang = (i18n_service.tenant_locale(session, tenant_id) or "en") if row else built_lang
    if "when" in KINDS[kind].variables:
        values.setdefault("when", format_when(at or now(), own_lang, who.time_zone))
    labels = STATUS_LABELS.get(own_lang, {})
    for name in ("old_status", "new_status"):
        if name in values and isinstance(values[name], str):
            values[name] = labels.get(values[name], values[name])
    values.setdefault("tenant", tenant_values(session, tenant_id))
    if "signature" in KINDS[kind].variables:
        values.setdefault("signature", signature(session, tenant_id, author_id))
    for name in KINDS[kind].variables:
        values.setdefault(name, "")
    if row is not None:
        try:
            return render(
                kind, Source(row.subject, row.text_body, row.html_body), values, lang=own_lang
            )
        except (TemplateError, TypeError, ValueError, ArithmeticError, Invalid) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning(
                "mail template %s of tenant %s failed, built-in used: %s", kind, tenant_id, error
            )
            if report:
                report_failure(session, tenant_id, kind, error)
            built = render(kind, builtin(kind, who.locale), values, lang=built_lang)
            return RenderedMail(built.subject, built.text, built.html, fallback=True, error=error)
    return render(kind, builtin(kind, who.locale), values, lang=built_lang)


def report_failure(session: Session, tenant_id: uuid.UUID, kind: str, error: str) -> None:
    """The audit row an admin reads when a template failed and the built-in one was sent."""
    audit.record(session, tenant_id, FAILED, details={"kind": kind, "error": error})
