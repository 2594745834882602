"""Tenant administration: plugins, the outbox, members."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from core.errors import NotFound
from core.models import OutboxEvent, Tenant
from core.permissions import require_admin
from core.services import audit, audit_trail, identity
from hub import audit_export as audit_export_csv
from hub import key_verification, outbox, plugin_admin
from hub.api.deps import ActorDep, HubDep, ObjectId, SessionDep, client_ip
from hub.api.schemas.access_control import MemberPublic
from hub.api.schemas.admin import (
    AuditEntryPublic,
    AuditPagePublic,
    KeyVerificationCreate,
    MemberAdded,
    MemberCreate,
    OutboxEventPublic,
    PluginUpdate,
)
from hub.api.schemas.common import UtcDateTime
from hub.api.schemas.plugins import (
    ConnectionCheckResult,
    KeyVerificationResult,
    OutboxRetryResult,
    PluginConfigureResult,
    PluginPublic,
    PluginStatePublic,
)

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


@router.get("/plugins/", response_model=list[PluginPublic])
def plugins(actor: ActorDep, session: SessionDep, hub: HubDep) -> list[dict[str, Any]]:
    """Installed plugins, their state for this tenant and their settings schema."""
    require_admin(actor, "manage plugins")
    return plugin_admin.describe(hub, session, actor)


@router.post("/plugins/{name}/enable/", response_model=PluginStatePublic)
def enable(name: str, actor: ActorDep, session: SessionDep, hub: HubDep) -> dict[str, Any]:
    """Enable a plugin for this tenant (audited)."""
    require_admin(actor, "manage plugins")
    plugin_admin.set_enabled(hub, session, actor, name, True)
    session.commit()
    hub.tenant_hooks.invalidate(actor.tenant_id)
    return {"name": name, "enabled": True}


@router.post("/plugins/{name}/disable/", response_model=PluginStatePublic)
def disable(name: str, actor: ActorDep, session: SessionDep, hub: HubDep) -> dict[str, Any]:
    """Disable a plugin for this tenant (audited); its endpoints then answer 404 here."""
    require_admin(actor, "manage plugins")
    plugin_admin.set_enabled(hub, session, actor, name, False)
    session.commit()
    hub.tenant_hooks.invalidate(actor.tenant_id)
    return {"name": name, "enabled": False}


@router.patch("/plugins/{name}/", response_model=PluginConfigureResult)
def configure(
    name: str, body: PluginUpdate, actor: ActorDep, session: SessionDep, hub: HubDep
) -> dict[str, Any]:
    """Change settings; secret fields are write-only (an empty value clears one)."""
    require_admin(actor, "manage plugins")
    claims = plugin_admin.configure(hub, session, actor, name, body.settings)
    session.commit()
    hub.tenant_hooks.invalidate(actor.tenant_id)
    notes = key_verification.send_all(hub, actor.tenant_id, _tenant_name(session, actor), claims)
    described = next(p for p in plugin_admin.describe(hub, session, actor) if p["name"] == name)
    return {**described, "notes": notes}


@router.post("/plugins/{name}/keys/verify/", response_model=KeyVerificationResult)
def resend_verification(
    name: str, body: KeyVerificationCreate, actor: ActorDep, session: SessionDep, hub: HubDep
) -> dict[str, Any]:
    """Send a pending key's verification mail again, with a new secret (the old one lapses)."""
    require_admin(actor, "manage plugins")
    claim = plugin_admin.resend_verification(hub, session, actor, name, body.key.strip().lower())
    session.commit()
    notes = key_verification.send_all(hub, actor.tenant_id, _tenant_name(session, actor), [claim])
    return {"key": claim.key, "verified": claim.verified, "notes": notes}


@router.post("/plugins/{name}/test/", response_model=ConnectionCheckResult)
def test_connection(name: str, actor: ActorDep, session: SessionDep, hub: HubDep) -> Any:
    """Check the stored settings against the vendor (Slack ``auth.test``, Jira ``myself``, the
    Teams bot's sign-in, the mail relay's login and the IMAP folder); nothing is changed."""
    found = plugin_admin.check_connection(hub, session, actor, name)
    return ConnectionCheckResult(ok=found.ok, message=found.message)


def _tenant_name(session: SessionDep, actor: ActorDep) -> str:
    tenant = session.get(Tenant, actor.tenant_id)
    return tenant.name if tenant is not None else ""


@router.get("/outbox/", response_model=list[OutboxEventPublic])
def outbox_list(
    actor: ActorDep,
    session: SessionDep,
    status: Annotated[str, Query(pattern="^(pending|delivered|failed)$")] = "failed",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[OutboxEvent]:
    """Outbox events of this tenant by status (failed ones are retryable)."""
    require_admin(actor, "read the outbox")
    return outbox.events_by_status(session, actor.tenant_id, status, limit)


@router.post("/outbox/{event_id}/retry/", response_model=OutboxRetryResult)
def outbox_retry(
    event_id: ObjectId, actor: ActorDep, session: SessionDep, hub: HubDep
) -> dict[str, Any]:
    """Queue a failed event again."""
    require_admin(actor, "retry outbox events")
    if not outbox.retry(session, actor.tenant_id, event_id):
        raise NotFound(f"outbox event {event_id} not found")
    session.commit()
    hub.kick()
    return {"id": event_id, "status": "pending"}


@router.get("/members/", response_model=list[MemberPublic])
def members(actor: ActorDep, session: SessionDep) -> list[dict[str, Any]]:
    """Members of the tenant with their roles (``active``: False once deactivated)."""
    require_admin(actor, "list members")
    rows = identity.members(session, actor.tenant_id)
    return [
        {
            "id": r[0],
            "email": r[1],
            "full_name": r[2],
            "role": r[3],
            "available": r[4],
            "active": bool(r[5]),
        }
        for r in rows
    ]


@router.post("/members/", status_code=201, response_model=MemberAdded)
def add_member(
    body: MemberCreate, request: Request, actor: ActorDep, session: SessionDep
) -> dict[str, Any]:
    """Add a new address to the tenant or change a member's role (409 for an account that
    belongs to another tenant: that needs the person's consent)."""
    require_admin(actor, "manage members")
    user, member = identity.add_member(
        session,
        actor,
        email=body.email,
        role=body.role,
        full_name=body.full_name,
        ip=client_ip(request),
    )
    return {"id": user.id, "email": user.email, "role": member.role}


class AuditQuery(BaseModel):
    """Filters of the audit trail (a ticket implies the ticket trail)."""

    trail: Literal["tenant", "ticket"] = "tenant"
    actor: str = Field("", max_length=254, description="the actor's email address")
    action: str = Field("", max_length=50)
    since: UtcDateTime | None = None
    until: UtcDateTime | None = None
    ticket: int | None = Field(None, ge=1, le=2**63 - 1)

    def filters(self) -> audit_trail.Filters:
        return audit_trail.Filters(
            trail=self.trail,
            actor=self.actor,
            action=self.action,
            since=self.since,
            until=self.until,
            ticket_id=self.ticket,
        )


@router.get("/audit/", response_model=AuditPagePublic)
def audit_log(
    actor: ActorDep,
    session: SessionDep,
    query: Annotated[AuditQuery, Query()],
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = audit.PAGE_SIZE,
) -> AuditPagePublic:
    """The tenant's audit trail, newest first, filtered; ``next_before`` pages on (keyset)."""
    found = audit_trail.page(session, actor, query.filters(), before=before, limit=limit)
    return AuditPagePublic(
        results=[AuditEntryPublic.model_validate(r) for r in found.rows],
        next_before=found.next_before,
    )


@router.get(
    "/audit/export/",
    response_class=Response,
    responses={200: {"description": "CSV", "content": {"text/csv": {}}}},
)
def audit_export(
    request: Request, actor: ActorDep, hub: HubDep, query: Annotated[AuditQuery, Query()]
) -> Response:
    """Every row of the filtered audit trail as CSV, streamed (the export is audited)."""
    return audit_export_csv.csv_response(hub, actor, query.filters(), client_ip(request))
