"""Everything audited: knowledge-base edits, saved reports, report exports, attachment
downloads and token use (once per token per hour) write rows, with no secret in any of them;
and a walk over admin write routes, each of which must leave a row."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core import clock
from core.models import Audit, TenantAudit
from tests.samples import PNG

T = "/api/v1/support/tickets/"
KB = "/api/v1/support/kb/articles/"
NEW = {"subject": "Billing twice", "description": "Charged twice in May.", "category": "Billing"}


def _tenant_rows(hub, tenant_id) -> list[TenantAudit]:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        return list(
            s.scalars(
                select(TenantAudit)
                .where(TenantAudit.tenant_id == tenant_id)
                .order_by(TenantAudit.id)
            )
        )


def _actions(hub, tenant_id) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.action for r in _tenant_rows(hub, tenant_id) if r.action != "token.used"]


def test_kb_saved_reports_exports_and_downloads_are_audited(hub, org) -> None:  # type: ignore[no-untyped-def]
    art = org.agent.post(KB, json={"title": "Reset", "body": "How to reset."}).json()
    org.agent.patch(f"{KB}{art['id']}/", json={"title": "Reset it"})
    assert (
        org.agent.client.delete(f"{KB}{art['id']}/", headers=org.agent.headers).status_code == 204
    )
    saved = org.manager.post(
        "/api/v1/support/reports/saved/", json={"name": "Week", "report": "volume", "query": {}}
    ).json()
    org.manager.client.delete(
        f"/api/v1/support/reports/saved/{saved['id']}/", headers=org.manager.headers
    )
    assert org.manager.get("/api/v1/support/reports/volume/export/?format=csv").status_code == 200
    assert org.manager.get("/api/v1/support/exports/tickets/?format=csv").status_code == 200
    assert _actions(hub, org.tenant[0]) == [
        "kb.article_created",
        "kb.article_updated",
        "kb.article_deleted",
        "report.saved",
        "report.saved_deleted",
        "report.exported",
        "report.exported",
    ]
    rows = _tenant_rows(hub, org.tenant[0])
    kb_rows = [r for r in rows if r.action.startswith("kb.")]
    assert kb_rows[1].details == {"id": art["id"], "title": "Reset it", "version": 2}
    assert kb_rows[0].actor_email == org.agent.email
    exported = [r.details for r in rows if r.action == "report.exported"]
    assert exported == [
        {"report": "volume", "format": "csv"},
        {"report": "tickets", "format": "csv"},
    ]
    tid = org.end_user.post(T, json=NEW).json()["id"]
    att = org.end_user.post(
        f"{T}{tid}/attachment/", files={"file": ("a.png", io.BytesIO(PNG), "image/png")}
    ).json()
    assert org.agent.get(f"{T}{tid}/attachments/{att['id']}/").status_code == 200
    with hub.session() as s:
        row = s.scalars(
            select(Audit).where(Audit.ticket_id == tid, Audit.action == "Attachment Downloaded")
        ).one()
    assert (row.performed_by, row.new_value, row.details) == (
        org.agent.user_id,
        "a.png",
        {"attachment_id": att["id"]},
    )


def test_token_use_is_audited_once_per_token_per_hour(hub, org) -> None:  # type: ignore[no-untyped-def]
    start = datetime(2026, 12, 2, 10, 5, tzinfo=UTC)
    for minutes in (0, 2, 30, 54, 56, 70):  # each request a minute or more after the last
        clock.set_clock(lambda m=minutes: start + timedelta(minutes=m))
        assert org.agent.get(T).status_code == 200
    used = [r for r in _tenant_rows(hub, org.tenant[0]) if r.action == "token.used"]
    # 10:05 (first use), 11:01 and 11:15 fall in two clock hours: two rows, not six.
    assert [r.created_at.hour for r in used] == [10, 11]
    assert {r.actor_email for r in used} == {org.agent.email}
    assert org.agent.token not in json.dumps([r.details for r in used])


def test_admin_write_routes_each_write_an_audit_row(hub, org) -> None:  # type: ignore[no-untyped-def]
    """Each admin write, and the row it must leave (in either trail)."""
    spare = org.admin.post(
        "/api/v1/admin/members/", json={"email": "spare@x.example", "role": "agent"}
    ).json()
    member = f"/api/v1/admin/members/{spare['id']}/"
    token = org.admin.post("/api/v1/auth/tokens/", json={"name": "ci"}).json()
    orgs = "/api/v1/support/organisations/"
    kept = org.admin.post(orgs, json={"name": "Kept"}).json()["id"]
    pair = [
        org.admin.post(
            "/api/v1/admin/members/", json={"email": f"{w}@pair.example", "role": "end_user"}
        ).json()["id"]
        for w in ("a", "b")
    ]
    people = f"/api/v1/support/people/{pair[0]}/"
    walk = [
        ("POST", orgs, {"name": "Acme", "domains": ["acme.example"]}, "organisation.created"),
        ("PATCH", f"{orgs}{kept}/", {"notes": "VIP"}, "organisation.updated"),
        ("PUT", f"{people}organisation/", {"organisation_id": kept}, "person.organisation_changed"),
        ("POST", f"{people}merge/", {"target_id": pair[1]}, "person.merged"),
        ("DELETE", f"{orgs}{kept}/", None, "organisation.deleted"),
        (
            "POST",
            "/api/v1/admin/members/",
            {"email": "w@x.example", "role": "agent"},
            "member.added",
        ),
        ("PATCH", member, {"role": "manager"}, "member.role_changed"),
        ("POST", f"{member}deactivate/", {}, "member.deactivated"),
        ("POST", f"{member}reactivate/", None, "member.reactivated"),
        (
            "POST",
            "/api/v1/admin/invitations/",
            {"email": "inv@x.example", "role": "agent"},
            "invitation.sent",
        ),
        ("POST", "/api/v1/admin/plugins/email/enable/", None, "Plugin Enabled"),
        ("POST", "/api/v1/admin/plugins/email/disable/", None, "Plugin Disabled"),
        ("POST", "/api/v1/auth/tokens/", {"name": "more"}, "token.created"),
        ("POST", f"/api/v1/auth/tokens/{token['id']}/revoke/", None, "token.revoked"),
    ]
    for method, url, body, action in walk:
        tenant, ticket = _trails(hub, org.tenant[0])
        r = org.admin.client.request(method, url, json=body, headers=org.admin.headers)
        assert r.status_code < 300, (url, r.status_code, r.text)
        tenant_after, ticket_after = _trails(hub, org.tenant[0])
        written = tenant_after[len(tenant) :] + ticket_after[len(ticket) :]
        assert action in written, (url, action, written)
    dumped = json.dumps([(r.details, r.target_email) for r in _tenant_rows(hub, org.tenant[0])])
    assert token["token"] not in dumped


def _trails(hub, tenant_id) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    """Both trails' actions, oldest first (token use left out: it comes with any request)."""
    with hub.session() as s:
        tenant = s.scalars(
            select(TenantAudit.action)
            .where(TenantAudit.tenant_id == tenant_id, TenantAudit.action != "token.used")
            .order_by(TenantAudit.id)
        ).all()
        ticket = s.scalars(
            select(Audit.action).where(Audit.tenant_id == tenant_id).order_by(Audit.id)
        ).all()
    return list(tenant), list(ticket)
