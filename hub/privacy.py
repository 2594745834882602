"""Person data through core and every plugin: exports built into a zip, erasure, retention runs.

Core owns its tables (``core.privacy``); each enabled plugin takes part through
``hub_person_data``, ``hub_erase_person`` and ``hub_retention_sweep``. An export is a row that a
task builds (``run_export``: from the request in-process, and from the periodic
``privacy.work`` task for any left pending); its archive is a blob, reached through a signed
link that expires with it. A retention run commits each batch with its counts, so a run cut
short is resumed (the same row) by the next without doing anything twice.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
import zipfile
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from core.clock import now
from core.errors import Conflict, NotFound
from core.models import Tenant
from core.permissions import Actor, require_admin, system_actor
from core.privacy import erasure, export, person, policy, retention
from core.privacy.models import PersonExport, RetentionRun
from core.services import audit
from hub.context import Hub

log = logging.getLogger("hub.privacy")
BATCH = 200
EXPORT_REQUESTED, EXPORT_DOWNLOADED = "person.export_requested", "person.export_downloaded"
RETENTION_RUN = "retention.run"


# ---------------------------------------------------------------------------- export


def request_export(hub: Hub, actor: Actor, user_id: int) -> int:
    """A new export of the member (an admin's, or the person's own); returns its id."""
    if actor.user_id != user_id:
        require_admin(actor, "export another person's data")
    with hub.session() as s:
        who = person.member(s, actor.tenant_id, user_id)
        row = PersonExport(
            tenant_id=actor.tenant_id,
            user_id=who.user_id,
            requested_by=actor.user_id,
            audience=who.role,
            status="pending",
            created_at=now(),
        )
        s.add(row)
        s.flush()
        audit.by_actor(
            s, actor, EXPORT_REQUESTED, details={"export_id": row.id, "user_id": user_id}
        )
        return row.id


def export_of(hub: Hub, actor: Actor, export_id: int) -> dict[str, Any]:
    """An export as the API shows it; the person's own or any of the tenant's for admins."""
    with hub.read_session() as s:
        row = s.scalar(
            select(PersonExport).where(
                PersonExport.tenant_id == actor.tenant_id, PersonExport.id == export_id
            )
        )
        if row is None or (row.user_id != actor.user_id and not actor.is_admin):
            raise NotFound(f"export {export_id} not found")
        return public(hub, row)


def exports_for(hub: Hub, tenant_id: uuid.UUID, user_id: int) -> list[dict[str, Any]]:
    """The member's exports, newest first."""
    with hub.read_session() as s:
        rows = s.scalars(
            select(PersonExport)
            .where(PersonExport.tenant_id == tenant_id, PersonExport.user_id == user_id)
            .order_by(PersonExport.id.desc())
            .limit(20)
        )
        return [public(hub, r) for r in rows]


def public(hub: Hub, row: PersonExport) -> dict[str, Any]:
    return {
        "id": row.id,
        "user_id": row.user_id,
        "status": row.status,
        "step": row.step,
        "progress": row.progress,
        "total": row.total,
        "size": row.size,
        "error": row.error,
        "created_at": row.created_at,
        "finished_at": row.finished_at,
        "expires_at": row.expires_at,
        "download_url": download_url(hub, row) if row.status == "done" else None,
    }


def _signer(hub: Hub) -> URLSafeSerializer:
    return URLSafeSerializer(hub.settings.secret_key, salt="hub.person-export")


def download_url(hub: Hub, row: PersonExport) -> str:
    """The signed link to the archive; it names the export and its expiry."""
    assert row.expires_at is not None
    sig = _signer(hub).dumps([row.id, int(row.expires_at.timestamp())])
    return f"/api/v1/privacy/exports/download/{sig}"


def open_download(hub: Hub, signed: str) -> tuple[str, bytes]:
    """(file name, bytes) of the archive a signed link names; ``NotFound`` when the link is
    bad, expired or its export gone."""
    try:
        export_id, expires = _signer(hub).loads(signed)
    except (BadSignature, ValueError, TypeError):
        raise NotFound("this download link is not valid") from None
    if now().timestamp() >= float(expires):
        raise NotFound("this download link has expired")
    with hub.session() as s:
        row = s.get(PersonExport, int(export_id))
        if row is None or row.blob_key is None or row.status != "done":
            raise NotFound("this export is no longer available")
        data = hub.blob_store.get(row.blob_key)
        audit.record(
            s,
            row.tenant_id,
            EXPORT_DOWNLOADED,
            actor_id=row.requested_by,
            details={"export_id": row.id},
        )
        return f"person-{row.user_id}-export-{row.id}.zip", data


def _step(hub: Hub, export_id: int, step: str, progress: int, total: int) -> None:
    with hub.session() as s:
        row = s.get(PersonExport, export_id)
        if row is not None:
            row.step, row.progress, row.total = step, progress, total


def run_export(hub: Hub, export_id: int) -> str:
    """Build the export's archive (idempotent: a finished export is left alone); returns its
    status."""
    with hub.session() as s:
        row = s.get(PersonExport, export_id)
        if row is None or row.status in ("done", "expired"):
            return row.status if row else "gone"
        row.status, row.started_at = "running", now()
        tenant_id, user_id = row.tenant_id, row.user_id
        keep = policy.get(s, tenant_id).export_days
    try:
        with hub.read_session() as s:
            core = export.collect(s, tenant_id, user_id)
            email = person.member(s, tenant_id, user_id).email
        lists = hub.hooks(tenant_id).hub_person_data(tenant_id=tenant_id, email=email, hub=hub)
        records = [r for found in lists for r in found or ()]
        total = 2 + len(core.files)
        _step(hub, export_id, "collected", 1, total)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, doc in core.documents.items():
                zf.writestr(name, json.dumps(doc, indent=2, default=str, ensure_ascii=False))
            by_plugin: dict[str, list[dict[str, Any]]] = {}
            for r in records:
                item = asdict(r)
                files = item.pop("files")
                item["files"] = sorted(files)
                by_plugin.setdefault(r.plugin, []).append(item)
                for fname, data in files.items():
                    zf.writestr(f"plugins/{r.plugin}/{fname}", data)
            for plugin, items in by_plugin.items():
                zf.writestr(
                    f"plugins/{plugin}.json",
                    json.dumps(items, indent=2, default=str, ensure_ascii=False),
                )
            for i, (name, key) in enumerate(core.files, start=2):
                try:
                    zf.writestr(name, hub.blob_store.get(key))
                except (OSError, ValueError):
                    log.warning("export %s: a blob is missing", export_id)
                if i % 20 == 0:
                    _step(hub, export_id, "files", i, total)
        data = buf.getvalue()
        key = hub.blob_store.put(data)
        with hub.session() as s:
            row = s.get(PersonExport, export_id)
            assert row is not None
            row.blob_key, row.size, row.status = key, len(data), "done"
            row.step, row.progress, row.total = "done", total, total
            row.finished_at = now()
            row.expires_at = row.finished_at + timedelta(days=keep)
        return "done"
    except Exception as exc:
        log.exception("export %s failed", export_id)
        with hub.session() as s:
            row = s.get(PersonExport, export_id)
            if row is not None:
                row.status, row.error = "failed", type(exc).__name__
        return "failed"


def run_pending_exports(hub: Hub, *, stale_after: float = 900.0) -> int:
    """Build every export left pending (or running longer than ``stale_after`` seconds: its
    builder died)."""
    cutoff = now() - timedelta(seconds=stale_after)
    with hub.read_session() as s:
        ids = list(
            s.scalars(
                select(PersonExport.id).where(
                    (PersonExport.status == "pending")
                    | ((PersonExport.status == "running") & (PersonExport.started_at < cutoff))
                )
            )
        )
    for export_id in ids:
        run_export(hub, export_id)
    return len(ids)


# ---------------------------------------------------------------------------- erasure


def erasure_preview(hub: Hub, actor: Actor, user_id: int) -> dict[str, Any]:
    """What an erasure would remove, per kind (core and each plugin), and the hold that blocks
    it, if any."""
    from core.privacy import holds

    with hub.read_session() as s:
        counts = erasure.preview(s, actor, user_id)
        who = person.member(s, actor.tenant_id, user_id)
        hold = holds.blocking_person(s, actor.tenant_id, user_id)
        reason = hold.reason if hold is not None else None
        shared = erasure.shares_account(s, actor.tenant_id, user_id)
    lists = hub.hooks(actor.tenant_id).hub_person_data(
        tenant_id=actor.tenant_id, email=who.email, hub=hub
    )
    for found in lists:
        for r in found or ():
            name = f"{r.plugin}.{r.kind}"
            counts[name] = counts.get(name, 0) + 1
    return {
        "user_id": user_id,
        "counts": counts,
        "held": reason is not None,
        "hold_reason": reason,
        "shared_account": shared,
    }


def erase_person(hub: Hub, actor: Actor, user_id: int) -> dict[str, Any]:
    """Erase the member through every plugin, then core (see ``core.privacy.erasure``)."""
    from core.privacy import holds

    with hub.read_session() as s:
        require_admin(actor, "erase a person")
        who = person.member(s, actor.tenant_id, user_id)
        hold = holds.blocking_person(s, actor.tenant_id, user_id)
        reason = hold.reason if hold is not None else None
    if reason is not None:
        raise Conflict(f"a legal hold blocks erasure: {reason}")
    plugin_counts = hub.hooks(actor.tenant_id).hub_erase_person(
        tenant_id=actor.tenant_id, email=who.email, hub=hub
    )
    with hub.session() as s:
        done = erasure.erase(s, actor, user_id)
    for key in done.blob_keys:
        try:
            hub.blob_store.delete(key)
        except ValueError:
            log.warning("erasure: a bad blob key was skipped")
    return {
        "user_id": user_id,
        "pseudonym": done.pseudonym,
        "counts": {**done.counts, "plugin_records": sum(int(c or 0) for c in plugin_counts)},
    }


# ---------------------------------------------------------------------------- retention


def _kinds() -> list[str]:
    return [*retention.KINDS[:-1], *retention.PLUGIN_KINDS, retention.KINDS[-1]]


def run_retention(
    hub: Hub,
    tenant_id: uuid.UUID,
    *,
    dry_run: bool = False,
    trigger: str = "schedule",
    batch: int = BATCH,
    actor: Actor | None = None,
) -> int:
    """Run (or dry-run) the tenant's schedule; resumes a run left unfinished. Returns the run's
    id."""
    actor = actor or system_actor(tenant_id)
    with hub.session() as s:
        pol = policy.get(s, tenant_id)
        run = None
        if not dry_run:
            run = s.scalar(
                select(RetentionRun)
                .where(
                    RetentionRun.tenant_id == tenant_id,
                    RetentionRun.status == "running",
                    RetentionRun.dry_run.is_(False),
                )
                .order_by(RetentionRun.id)
                .limit(1)
            )
        if run is None:
            run = RetentionRun(
                tenant_id=tenant_id,
                dry_run=dry_run,
                trigger=trigger,
                status="running",
                counts={},
                notes={},
                started_at=now(),
            )
            s.add(run)
            s.flush()
        run_id = run.id
    try:
        for kind in _kinds():
            if dry_run:
                _dry(hub, tenant_id, run_id, pol, kind)
            else:
                _sweep_kind(hub, tenant_id, run_id, pol, kind, batch)
    except Exception as exc:
        log.exception("retention run %s stopped", run_id)
        with hub.session() as s:
            row = s.get(RetentionRun, run_id)
            if row is not None:
                row.error = type(exc).__name__
        raise
    with hub.session() as s:
        row = s.get(RetentionRun, run_id)
        assert row is not None
        row.status, row.finished_at = "done", now()
        audit.by_actor(
            s,
            actor,
            RETENTION_RUN,
            details={"run_id": run_id, "dry_run": dry_run, "counts": dict(row.counts)},
        )
    return run_id


def _record(hub: Hub, run_id: int, kind: str, count: int, note: str = "") -> Any:
    def apply(s: Any) -> None:
        row = s.get(RetentionRun, run_id)
        row.counts = {**(row.counts or {}), kind: int((row.counts or {}).get(kind, 0)) + count}
        if note:
            row.notes = {**(row.notes or {}), kind: note}

    return apply


def _dry(hub: Hub, tenant_id: uuid.UUID, run_id: int, pol: policy.Policy, kind: str) -> None:
    with hub.session() as s:
        if kind in retention.PLUGIN_KINDS:
            before = retention.cutoff(pol, kind)
            if before is None:
                return
            found = hub.hooks(tenant_id).hub_retention_sweep(
                tenant_id=tenant_id, kind=kind, before=before, dry_run=True, limit=0, hub=hub
            )
            n = sum(int(x) for x in found if x is not None)
        elif kind == "audit":
            n, note = 0, ""
            if pol.audit_years and retention.prune_audit_function() is None:
                note = "audit retention is not available yet"
            if note:
                _record(hub, run_id, kind, 0, note)(s)
            return
        else:
            counted = retention.count(s, tenant_id, pol, kind)
            if counted is None:
                return
            n = counted
        if n:
            _record(hub, run_id, kind, n)(s)


def _sweep_kind(
    hub: Hub, tenant_id: uuid.UUID, run_id: int, pol: policy.Policy, kind: str, batch: int
) -> None:
    while True:
        if kind in retention.PLUGIN_KINDS:
            before = retention.cutoff(pol, kind)
            if before is None:
                return
            found = hub.hooks(tenant_id).hub_retention_sweep(
                tenant_id=tenant_id, kind=kind, before=before, dry_run=False, limit=batch, hub=hub
            )
            n = sum(int(x) for x in found if x is not None)
            with hub.session() as s:
                _record(hub, run_id, kind, n)(s)
            if n < batch:
                return
            continue
        with hub.session() as s:
            done = retention.sweep(s, tenant_id, pol, kind, limit=batch, keyring=hub.keyring)
            # The counts commit with the batch: a crash after it resumes past it.
            if done.count or done.note:
                _record(hub, run_id, kind, done.count, done.note)(s)
        for key in done.blob_keys:
            hub.blob_store.delete(key)
        if done.done:
            return


def scheduled_tenants(hub: Hub) -> list[uuid.UUID]:
    """Tenants with any retention period set."""
    with hub.read_session() as s:
        rows = s.execute(select(Tenant.id, Tenant.settings)).all()
    out = []
    for tenant_id, settings in rows:
        stored = (settings or {}).get(policy.KEY) or {}
        if any(stored.get(p) for p in policy.PERIODS) or stored:
            out.append(tenant_id)
    return out


def runs(hub: Hub, tenant_id: uuid.UUID, limit: int = 20) -> list[dict[str, Any]]:
    """The tenant's latest runs, newest first."""
    with hub.read_session() as s:
        rows = s.scalars(
            select(RetentionRun)
            .where(RetentionRun.tenant_id == tenant_id)
            .order_by(RetentionRun.id.desc())
            .limit(limit)
        )
        return [
            {
                "id": r.id,
                "dry_run": r.dry_run,
                "trigger": r.trigger,
                "status": r.status,
                "counts": dict(r.counts or {}),
                "notes": dict(r.notes or {}),
                "started_at": r.started_at,
                "finished_at": r.finished_at,
                "error": r.error,
            }
            for r in rows
        ]
