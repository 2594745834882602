"""Person data: exports (admins, or a person their own), erasure, legal holds, retention."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from core.errors import Invalid
from core.permissions import require_admin
from core.privacy import holds, policy
from hub import privacy
from hub.api.deps import ActorDep, HubDep, ObjectId
from hub.api.schemas.privacy import (
    ErasedPublic,
    ErasureConfirm,
    ErasurePreviewPublic,
    ExportPublic,
    HoldCreate,
    HoldPublic,
    RetentionPublic,
    RetentionRunCreate,
    RetentionRunPublic,
    RetentionSettings,
    RetentionSettingsPublic,
)

router = APIRouter(prefix="/api/v1", tags=["privacy"])


def _hold(h: Any) -> dict[str, Any]:
    return {
        "id": h.id,
        "user_id": h.user_id,
        "ticket_id": h.ticket_id,
        "reason": h.reason,
        "created_at": h.created_at,
        "released_at": h.released_at,
    }


@router.post("/admin/people/{user_id}/exports/", status_code=202, response_model=ExportPublic)
def admin_export(
    user_id: ObjectId, actor: ActorDep, hub: HubDep, background: BackgroundTasks
) -> dict[str, Any]:
    """Start an export of a member's data; poll it for progress and its download link."""
    require_admin(actor, "export a person's data")
    export_id = privacy.request_export(hub, actor, user_id)
    background.add_task(privacy.run_export, hub, export_id)
    return privacy.export_of(hub, actor, export_id)


@router.post("/account/exports/", status_code=202, response_model=ExportPublic)
def own_export(actor: ActorDep, hub: HubDep, background: BackgroundTasks) -> dict[str, Any]:
    """Start an export of your own data."""
    assert actor.user_id is not None
    export_id = privacy.request_export(hub, actor, actor.user_id)
    background.add_task(privacy.run_export, hub, export_id)
    return privacy.export_of(hub, actor, export_id)


@router.get("/privacy/exports/{export_id}/", response_model=ExportPublic)
def export_status(export_id: ObjectId, actor: ActorDep, hub: HubDep) -> dict[str, Any]:
    """An export's progress (yours, or any of the tenant's for admins)."""
    return privacy.export_of(hub, actor, export_id)


@router.get("/privacy/exports/download/{signed}", response_class=Response)
async def download(signed: str, hub: HubDep) -> Response:
    """The archive behind a signed link (404 once expired or deleted)."""
    name, data = await run_in_threadpool(privacy.open_download, hub, signed)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/admin/people/{user_id}/erasure/", response_model=ErasurePreviewPublic)
def erasure_preview(user_id: ObjectId, actor: ActorDep, hub: HubDep) -> dict[str, Any]:
    """What erasing the member would remove, per kind, and any hold that blocks it."""
    return privacy.erasure_preview(hub, actor, user_id)


@router.post("/admin/people/{user_id}/erasure/", response_model=ErasedPublic)
def erase(user_id: ObjectId, body: ErasureConfirm, actor: ActorDep, hub: HubDep) -> dict[str, Any]:
    """Erase the member (irreversible; 409 with the reason while a legal hold covers them)."""
    if not body.confirm:
        raise Invalid("erasure is irreversible: send confirm true", field="confirm")
    return privacy.erase_person(hub, actor, user_id)


@router.get("/admin/holds/", response_model=list[HoldPublic])
def list_holds(actor: ActorDep, hub: HubDep) -> list[dict[str, Any]]:
    """The tenant's active legal holds."""
    require_admin(actor, "list legal holds")
    with hub.read_session() as s:
        return [_hold(h) for h in holds.active(s, actor.tenant_id)]


@router.post("/admin/holds/", status_code=201, response_model=HoldPublic)
def place_hold(body: HoldCreate, actor: ActorDep, hub: HubDep) -> dict[str, Any]:
    """Hold a member or a ticket: erasure and retention leave it alone until released."""
    with hub.session() as s:
        return _hold(
            holds.place(
                s, actor, reason=body.reason, user_id=body.user_id, ticket_id=body.ticket_id
            )
        )


@router.delete("/admin/holds/{hold_id}/", response_model=HoldPublic)
def release_hold(hold_id: ObjectId, actor: ActorDep, hub: HubDep) -> dict[str, Any]:
    """Release a legal hold."""
    with hub.session() as s:
        return _hold(holds.release(s, actor, hold_id))


@router.get("/admin/retention/", response_model=RetentionPublic)
def retention_settings(actor: ActorDep, hub: HubDep) -> dict[str, Any]:
    """The tenant's retention settings and its latest runs."""
    require_admin(actor, "read data retention")
    with hub.read_session() as s:
        current = policy.get(s, actor.tenant_id).as_dict()
    return {"settings": current, "runs": privacy.runs(hub, actor.tenant_id)}


@router.put("/admin/retention/", response_model=RetentionSettingsPublic)
def save_retention(body: RetentionSettings, actor: ActorDep, hub: HubDep) -> dict[str, Any]:
    """Change retention settings (fields left out keep their value; null turns a period off)."""
    values = body.model_dump(exclude_unset=True)
    for required in ("comment_erasure", "export_days", "closed_ticket_action"):
        if required in values and values[required] is None:
            values.pop(required)
    with hub.session() as s:
        return {"settings": policy.save(s, actor, values).as_dict()}


@router.post("/admin/retention/runs/", status_code=201, response_model=RetentionRunPublic)
def retention_run(body: RetentionRunCreate, actor: ActorDep, hub: HubDep) -> dict[str, Any]:
    """Run the schedule now, or a dry run that only counts what would go."""
    require_admin(actor, "run data retention")
    run_id = privacy.run_retention(
        hub, actor.tenant_id, dry_run=body.dry_run, trigger="manual", actor=actor
    )
    return next(r for r in privacy.runs(hub, actor.tenant_id) if r["id"] == run_id)
