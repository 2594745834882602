"""Held attachments (quarantined by the malware scan, or kept unscanned): listed, released and
deleted by admins; the tenant's choice when the scanner is down. The console's Quarantine page
calls the same services."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from core.permissions import require_admin
from core.services import quarantine
from core.services.attachments import when_scanner_down
from hub.api.deps import ActorDep, HubDep, ObjectId, SessionDep, client_ip
from hub.api.routes.tickets import _attachment
from hub.api.schemas.attachments import AttachmentPublic
from hub.api.schemas.quarantine import HeldAttachmentPublic, ScanPolicyPublic, ScanPolicyUpdate

router = APIRouter(prefix="/api/v1/admin", tags=["quarantine"])


@router.get("/quarantine/", response_model=list[HeldAttachmentPublic])
def held(actor: ActorDep, session: SessionDep) -> list[HeldAttachmentPublic]:
    """The tenant's held files, newest first, with their signature (admins)."""
    return [
        HeldAttachmentPublic(**_attachment(h.attachment).model_dump(), ticket_subject=h.subject)
        for h in quarantine.held_files(session, actor)
    ]


@router.post("/quarantine/{attachment_id}/release/", response_model=AttachmentPublic)
def release(
    attachment_id: ObjectId, actor: ActorDep, session: SessionDep, hub: HubDep
) -> AttachmentPublic:
    """Make a held file downloadable again (audited on its ticket)."""
    row = quarantine.release(session, actor, attachment_id)
    out = _attachment(row)
    session.commit()
    hub.kick()
    return out


@router.delete("/quarantine/{attachment_id}/", status_code=204)
def delete(attachment_id: ObjectId, actor: ActorDep, session: SessionDep, hub: HubDep) -> Response:
    """Delete a held file, its row and then its bytes (audited on its ticket)."""
    gone = quarantine.delete(session, actor, attachment_id)
    session.commit()
    if gone.blob:
        hub.blob_store.delete(gone.blob)
    hub.kick()
    return Response(status_code=204)


@router.get("/scan-policy/", response_model=ScanPolicyPublic)
def scan_policy(actor: ActorDep, session: SessionDep, hub: HubDep) -> ScanPolicyPublic:
    """What happens to a file when the scanner is down, and what scans files (admins)."""
    require_admin(actor, "read the scan policy")
    return ScanPolicyPublic(
        when_down=when_scanner_down(session, actor.tenant_id),  # type: ignore[arg-type]
        scanning=hub.scanning,
    )


@router.put("/scan-policy/", response_model=ScanPolicyPublic)
def set_scan_policy(
    body: ScanPolicyUpdate, request: Request, actor: ActorDep, session: SessionDep, hub: HubDep
) -> ScanPolicyPublic:
    """Choose ``refuse`` or ``hold`` for files that cannot be scanned (audited)."""
    quarantine.set_when_down(session, actor, body.when_down, ip=client_ip(request))
    session.commit()
    return ScanPolicyPublic(when_down=body.when_down, scanning=hub.scanning)
