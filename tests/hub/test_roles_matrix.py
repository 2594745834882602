"""Each role against each endpoint (spec section 2), and cross-tenant 404 on every object route."""

from __future__ import annotations

import io

import pytest

from tests.conftest import TenantSet
from tests.samples import PNG

T = "/api/v1/support/tickets/"
REPORT_NAMES = ("volume", "first-response", "resolution", "sla", "agents", "trends", "satisfaction")
ORGS = "/api/v1/support/organisations/"
PEOPLE = "/api/v1/support/people/"
NEW = {"subject": "VPN drops", "description": "Every hour.", "category": "Technical Issue"}


def _setup(org: TenantSet) -> dict[str, int]:
    tid = org.end_user.post(T, json=NEW).json()["id"]
    other = org.end_user.post(T, json=NEW).json()["id"]
    att = org.end_user.post(
        f"{T}{tid}/attachment/", files={"file": ("s.png", io.BytesIO(PNG), "image/png")}
    ).json()["id"]
    # A support address the tenant claims and has not verified yet (for the resend route).
    r = org.admin.patch(
        "/api/v1/admin/plugins/email/",
        json={"settings": {"addresses": ["pending@claimed.example"]}},
    )
    assert r.status_code == 200, r.text
    # A spare agent for the offboarding routes, a token of the end user's for an admin's
    # revocation, and a token of each member's own for theirs.
    spare = org.admin.post(
        "/api/v1/admin/members/", json={"email": "spare@example.com", "role": "agent"}
    ).json()["id"]
    listed = org.admin.get("/api/v1/admin/tokens/").json()
    theirs = next(t["id"] for t in listed if t["user_id"] == org.end_user.user_id)
    own = {
        role: getattr(org, role)
        .post("/api/v1/auth/tokens/", json={"name": "own", "scope": "read"})
        .json()["id"]
        for role in ("end_user", "agent", "admin", "manager")
    }
    inv, inv2 = (
        org.admin.post(
            "/api/v1/admin/invitations/", json={"email": f"{who}@invited.example", "role": "agent"}
        ).json()["id"]
        for who in ("one", "two")
    )
    held = _held_files(org, tid)
    dup_on, dup_flag, merge_on, merge_flag = _duplicate_flags(org)
    erasable = org.admin.post(
        "/api/v1/admin/members/", json={"email": "erasable@example.com", "role": "end_user"}
    ).json()["id"]
    hold = org.admin.post(
        "/api/v1/admin/holds/", json={"ticket_id": other, "reason": "kept for the matrix"}
    ).json()["id"]
    people = [
        org.admin.post(
            "/api/v1/admin/members/", json={"email": f"{who}@merge.example", "role": "end_user"}
        ).json()["id"]
        for who in ("source", "target")
    ]
    orgs = [
        org.admin.post(ORGS, json={"name": name, "domains": []}).json()["id"]
        for name in ("Kept", "Deleted")
    ]
    return {
        "merge_src": people[0],
        "merge_dst": people[1],
        "org_id": orgs[0],
        "org_del": orgs[1],
        "erasable": erasable,
        "hold": hold,
        "tid": tid,
        "other": other,
        "att": att,
        "held": held[0],
        "held2": held[1],
        "spare": spare,
        "theirs": theirs,
        "inv": inv,
        "inv2": inv2,
        "dup_on": dup_on,
        "dup_flag": dup_flag,
        "merge_on": merge_on,
        "merge_flag": merge_flag,
        **own,
    }


def _duplicate_flags(org: TenantSet) -> tuple[int, int, int, int]:
    """Three like tickets of one requester, checked as ``ticket.created`` would: (a ticket and a
    flag on it to dismiss, another ticket and a flag on it to merge from)."""
    from core.duplicates.service import check_ticket
    from core.models import Ticket

    like = {"subject": "Printer jams", "description": "Jams on every page.", "category": "Other"}
    ids = [org.end_user.post(T, json=like).json()["id"] for _ in range(3)]
    with org.end_user.client.app.state.hub.session() as s:  # type: ignore[attr-defined]
        (first,) = check_ticket(s, s.get(Ticket, ids[1]))
        flags = check_ticket(s, s.get(Ticket, ids[2]))
        to_merge = next(f for f in flags if f.first_ticket_id == ids[0])
        return ids[1], first.id, ids[2], to_merge.id


def _held_files(org: TenantSet, tid: int) -> list[int]:
    """Two attachments held as quarantined (as an infected verdict leaves them)."""
    from sqlalchemy import update

    from core.models import Attachment

    ids = [
        org.end_user.post(
            f"{T}{tid}/attachment/",
            files={"file": (f"h{n}.txt", io.BytesIO(b"held"), "text/plain")},
        ).json()["id"]
        for n in (1, 2)
    ]
    with org.end_user.client.app.state.hub.session() as s:  # type: ignore[attr-defined]
        s.execute(update(Attachment).where(Attachment.id.in_(ids)).values(held="infected"))
    return ids


def _calls(
    ids: dict[str, int], agent_id: int, role: str = "agent"
) -> dict[str, tuple[str, str, dict | None]]:
    tid, other, att = ids["tid"], ids["other"], ids["att"]
    members = f"/api/v1/admin/members/{ids['spare']}/"
    return {
        "list": ("GET", T, None),
        "detail": ("GET", f"{T}{tid}/", None),
        "comment": ("POST", f"{T}{tid}/comment/", {"comment": "hello"}),
        "internal": ("POST", f"{T}{tid}/comment/", {"comment": "psst", "is_internal": True}),
        "draft": ("GET", f"{T}{tid}/draft/", None),
        "draft_put": ("PUT", f"{T}{tid}/draft/", {"body": "half a reply"}),
        "draft_internal": ("PUT", f"{T}{tid}/draft/", {"body": "psst", "kind": "internal"}),
        "priority": ("PATCH", f"{T}{tid}/", {"priority": "High"}),
        "assign": ("PATCH", f"{T}{tid}/", {"assigned_to": agent_id}),
        "attachments": ("GET", f"{T}{tid}/attachments/", None),
        "download": ("GET", f"{T}{tid}/attachments/{att}/", None),
        "audit": ("GET", f"{T}{tid}/audit/", None),
        "merge": ("POST", f"{T}{other}/merge/", {"target_id": tid}),
        "bulk": ("POST", f"{T}bulk/", {"ids": [tid], "action": "set_priority", "priority": "Low"}),
        "bulk_tag": ("POST", f"{T}bulk/", {"ids": [tid], "action": "add_tag", "tag": "vip"}),
        "tags": ("GET", "/api/v1/support/tags/", None),
        "fields": ("GET", "/api/v1/support/fields/", None),
        "reports": ("GET", "/api/v1/support/reports/", None),
        **{
            f"report_{name}": ("GET", f"/api/v1/support/reports/{name}/", None)
            for name in REPORT_NAMES
        },
        "report_export": ("GET", "/api/v1/support/reports/volume/export/?format=csv", None),
        "ticket_export": ("GET", "/api/v1/support/exports/tickets/?format=csv", None),
        "saved_reports": ("GET", "/api/v1/support/reports/saved/", None),
        "slas": ("GET", "/api/v1/support/slas/", None),
        "groups": ("GET", "/api/v1/support/groups/", None),
        "group_create": ("POST", "/api/v1/support/groups/", {"name": f"Tier {role}"}),
        "plugins": ("GET", "/api/v1/admin/plugins/", None),
        "enable": ("POST", "/api/v1/admin/plugins/email/enable/", None),
        "resend": (
            "POST",
            "/api/v1/admin/plugins/email/keys/verify/",
            {"key": "pending@claimed.example"},
        ),
        "outbox": ("GET", "/api/v1/admin/outbox/", None),
        "members": ("GET", "/api/v1/admin/members/", None),
        "people_audit": ("GET", "/api/v1/admin/audit/", None),
        "audit_trail": ("GET", "/api/v1/admin/audit/?trail=ticket", None),
        "audit_export": ("GET", "/api/v1/admin/audit/export/", None),
        "role_change": ("PATCH", members, {"role": "agent"}),
        "deactivate": ("POST", f"{members}deactivate/", {}),
        "reactivate": ("POST", f"{members}reactivate/", None),
        "remove": ("POST", f"{members}remove/", {}),
        "tenant_tokens": ("GET", "/api/v1/admin/tokens/", None),
        "plugin_test": ("POST", "/api/v1/admin/plugins/email/test/", None),
        "revoke_any_token": ("POST", f"/api/v1/admin/tokens/{ids['theirs']}/revoke/", None),
        "rate_limit": ("GET", "/api/v1/admin/rate-limit/", None),
        "set_rate_limit": ("PATCH", "/api/v1/admin/rate-limit/", {"per_token": "600/minute"}),
        "search_settings": ("GET", "/api/v1/admin/search/", None),
        "search_settings_put": ("PUT", "/api/v1/admin/search/", {"language": "english"}),
        "me_update": ("PATCH", "/api/v1/me", {"full_name": "Same Name"}),
        "password": (
            "POST",
            "/api/v1/me/password",
            {"current_password": "not it", "new_password": "a fine new passphrase"},
        ),
        "my_sessions": ("GET", "/api/v1/me/sessions/", None),
        "end_session": ("POST", f"/api/v1/me/sessions/{'0' * 16}/revoke/", None),
        "end_sessions": ("POST", "/api/v1/me/sessions/revoke/", {"which": "others"}),
        "my_tokens": ("GET", "/api/v1/auth/tokens/", None),
        "create_token": ("POST", "/api/v1/auth/tokens/", {"name": "m", "scope": "read"}),
        "revoke_own_token": ("POST", f"/api/v1/auth/tokens/{ids.get(role, 0)}/revoke/", None),
        # Mail templates (hub/api/routes/mail_templates.py)
        "mail_templates": ("GET", "/api/v1/admin/email-templates/", None),
        "mail_template": ("GET", "/api/v1/admin/email-templates/status/", None),
        "mail_template_put": (
            "PUT",
            "/api/v1/admin/email-templates/status/",
            {"subject": "Status of #{{ ticket.id }}", "text_body": "Now {{ new_status }}."},
        ),
        "mail_template_reset": ("DELETE", "/api/v1/admin/email-templates/status/", None),
        "mail_template_preview": ("POST", "/api/v1/admin/email-templates/status/preview/", {}),
        "mail_signature": ("GET", "/api/v1/admin/email-signature/", None),
        "mail_signature_put": ("PUT", "/api/v1/admin/email-signature/", {"signature": "Acme"}),
        # Single sign-on and two-factor (hub/api/routes/sso.py, two_factor.py)
        "sso": ("GET", "/api/v1/admin/sso/", None),
        "sso_put": ("PUT", "/api/v1/admin/sso/", {"label": "Acme login"}),
        "tf_policy": ("GET", "/api/v1/admin/two-factor/", None),
        "tf_policy_put": ("PUT", "/api/v1/admin/two-factor/", {"required_for_staff": False}),
        "my_two_factor": ("GET", "/api/v1/me/two-factor/", None),
        "my_two_factor_enrol": ("POST", "/api/v1/me/two-factor/enrol", None),
        "invite": (
            "POST",
            "/api/v1/admin/invitations/",
            {"email": "new@invited.example", "role": "agent"},
        ),
        "invitations": ("GET", "/api/v1/admin/invitations/", None),
        "invitation_resend": ("POST", f"/api/v1/admin/invitations/{ids['inv']}/resend/", None),
        "invitation_cancel": ("POST", f"/api/v1/admin/invitations/{ids['inv2']}/cancel/", None),
        "password_reset": ("POST", "/api/v1/auth/password-reset/", {"email": "x@example.com"}),
        # Notifications (hub/api/routes/notifications.py)
        "notifications": ("GET", "/api/v1/notifications/", None),
        "notification_read": ("POST", f"/api/v1/notifications/{2**40}/read", None),
        "notifications_read_all": ("POST", "/api/v1/notifications/read-all", None),
        "notification_prefs": ("GET", "/api/v1/notifications/preferences/", None),
        "notification_prefs_put": (
            "PUT",
            "/api/v1/notifications/preferences/",
            {"choices": {"created:in_app": True}},
        ),
        "notification_defaults": ("GET", "/api/v1/admin/notifications/", None),
        "notification_defaults_put": (
            "PUT",
            "/api/v1/admin/notifications/",
            {"unassigned": "all_agents", "defaults": {}},
        ),
        "quarantine": ("GET", "/api/v1/admin/quarantine/", None),
        "quarantine_release": ("POST", f"/api/v1/admin/quarantine/{ids['held']}/release/", None),
        "quarantine_delete": ("DELETE", f"/api/v1/admin/quarantine/{ids['held2']}/", None),
        "scan_policy": ("GET", "/api/v1/admin/scan-policy/", None),
        "scan_policy_put": ("PUT", "/api/v1/admin/scan-policy/", {"when_down": "hold"}),
        # Likely duplicates (hub/api/routes/duplicates.py)
        "dup_list": ("GET", f"{T}{ids['dup_on']}/duplicates/", None),
        "dup_dismiss": (
            "POST",
            f"{T}{ids['dup_on']}/duplicates/{ids['dup_flag']}/dismiss/",
            None,
        ),
        "dup_merge": (
            "POST",
            f"{T}{ids['merge_on']}/duplicates/{ids['merge_flag']}/merge/",
            None,
        ),
        "dup_settings": ("GET", "/api/v1/admin/duplicates/", None),
        "dup_settings_put": (
            "PUT",
            "/api/v1/admin/duplicates/",
            {"enabled": True, "window_days": 10},
        ),
        **_privacy_calls(ids),
        **_organisation_calls(ids),
    }


def _organisation_calls(ids: dict[str, int]) -> dict[str, tuple[str, str, dict | None]]:
    """Organisations and people (hub.api.routes.organisations)."""
    org, person = f"{ORGS}{ids['org_id']}/", f"{PEOPLE}{ids['merge_src']}/"
    return {
        "organisations": ("GET", ORGS, None),
        "organisation": ("GET", org, None),
        "organisation_people": ("GET", f"{org}people/", None),
        "organisation_create": ("POST", ORGS, {"name": "New Co", "domains": ["newco.example"]}),
        "organisation_update": ("PATCH", org, {"notes": "Key account"}),
        "organisation_delete": ("DELETE", f"{ORGS}{ids['org_del']}/", None),
        "people_find": ("GET", f"{PEOPLE}?q=merge", None),
        "person": ("GET", person, None),
        "person_tickets": ("GET", f"{person}tickets/", None),
        "person_organisation": (
            "PUT",
            f"{person}organisation/",
            {"organisation_id": ids["org_id"]},
        ),
        "merge_preview": ("GET", f"{person}merge/?target_id={ids['merge_dst']}", None),
        "person_merge": ("POST", f"{person}merge/", {"target_id": ids["merge_dst"]}),
    }


# Read by agents, admins and managers; changed by agents and admins; never by end users.
ORG_READS = (
    "organisations",
    "organisation",
    "organisation_people",
    "people_find",
    "person",
    "person_tickets",
)
ORG_STAFF = ("person_organisation", "merge_preview", "person_merge")


def _privacy_calls(ids: dict[str, int]) -> dict[str, tuple[str, str, dict | None]]:
    """Person data (hub.api.routes.privacy): an admin's, except one's own export."""
    person = f"/api/v1/admin/people/{ids['erasable']}/"
    return {
        "own_export": ("POST", "/api/v1/account/exports/", None),
        "person_export": ("POST", f"{person}exports/", None),
        "erasure_preview": ("GET", f"{person}erasure/", None),
        "holds": ("GET", "/api/v1/admin/holds/", None),
        "place_hold": ("POST", "/api/v1/admin/holds/", {"ticket_id": ids["tid"], "reason": "r"}),
        "release_hold": ("DELETE", f"/api/v1/admin/holds/{ids['hold']}/", None),
        "retention": ("GET", "/api/v1/admin/retention/", None),
        "set_retention": ("PUT", "/api/v1/admin/retention/", {"raw_mail_days": 90}),
        "retention_run": ("POST", "/api/v1/admin/retention/runs/", {"dry_run": True}),
        "erase": ("POST", f"{person}erasure/", {"confirm": True}),
    }


# The routes of one's own account: every role alike (a wrong current password is a 422, an
# unknown session a 404, for everyone).
SELF_SERVICE = {
    "own_export": "ok",
    "me_update": "ok",
    "password": 422,
    "my_sessions": "ok",
    "end_session": 404,
    "end_sessions": "ok",
    "my_tokens": "ok",
    "create_token": "ok",
    "revoke_own_token": "ok",
    "notifications": "ok",
    "notification_read": 404,  # not one's own (nobody's here)
    "notifications_read_all": "ok",
    "notification_prefs": "ok",
    "notification_prefs_put": "ok",
}
ADMIN_ONLY = (
    "organisation_create",
    "organisation_update",
    "organisation_delete",
    "dup_settings",
    "dup_settings_put",
    "quarantine",
    "quarantine_release",
    "quarantine_delete",
    "scan_policy",
    "scan_policy_put",
    "person_export",
    "erasure_preview",
    "holds",
    "place_hold",
    "release_hold",
    "retention",
    "set_retention",
    "retention_run",
    "erase",
    "role_change",
    "deactivate",
    "reactivate",
    "remove",
    "tenant_tokens",
    "revoke_any_token",
    "rate_limit",
    "set_rate_limit",
    "search_settings",
    "search_settings_put",
    "mail_templates",
    "mail_template",
    "mail_template_put",
    "mail_template_reset",
    "mail_template_preview",
    "mail_signature",
    "mail_signature_put",
    "notification_defaults",
    "notification_defaults_put",
    "audit_trail",
    "audit_export",
    "plugin_test",
    "group_create",
)


OK, FORBIDDEN = "ok", 403
READERS_ONLY = [f"report_{n}" for n in REPORT_NAMES] + [
    "report_export",
    "ticket_export",
    "saved_reports",
    "tags",
]
EXPECTED: dict[str, dict[str, object]] = {
    "end_user": {
        "draft": OK,
        "draft_put": OK,
        "draft_internal": FORBIDDEN,
        **dict.fromkeys(READERS_ONLY, FORBIDDEN),
        **dict.fromkeys(ORG_READS + ORG_STAFF, FORBIDDEN),
        "list": OK,
        "detail": OK,
        "comment": OK,
        "internal": FORBIDDEN,
        "priority": FORBIDDEN,
        "assign": FORBIDDEN,
        "attachments": OK,
        "download": OK,
        "audit": FORBIDDEN,
        "merge": FORBIDDEN,
        "dup_list": FORBIDDEN,
        "dup_dismiss": FORBIDDEN,
        "dup_merge": FORBIDDEN,
        "bulk": FORBIDDEN,
        "bulk_tag": FORBIDDEN,
        "fields": OK,
        "reports": FORBIDDEN,
        "slas": FORBIDDEN,
        "groups": FORBIDDEN,
        "plugins": FORBIDDEN,
        "enable": FORBIDDEN,
        "resend": FORBIDDEN,
        "outbox": FORBIDDEN,
        "members": FORBIDDEN,
        "people_audit": FORBIDDEN,
        **{name: FORBIDDEN for name in ADMIN_ONLY},
        **SELF_SERVICE,
        "sso": FORBIDDEN,
        "sso_put": FORBIDDEN,
        "tf_policy": FORBIDDEN,
        "tf_policy_put": FORBIDDEN,
        "my_two_factor": OK,
        "my_two_factor_enrol": OK,
        "invite": FORBIDDEN,
        "invitations": FORBIDDEN,
        "invitation_resend": FORBIDDEN,
        "invitation_cancel": FORBIDDEN,
        "password_reset": OK,
    },
    "agent": {
        "draft": OK,
        "draft_put": OK,
        "draft_internal": OK,
        **dict.fromkeys(READERS_ONLY, OK),
        **dict.fromkeys(ORG_READS + ORG_STAFF, OK),
        "list": OK,
        "detail": OK,
        "comment": OK,
        "internal": OK,
        "priority": OK,
        "assign": OK,
        "attachments": OK,
        "download": OK,
        "audit": OK,
        "merge": OK,
        "dup_list": OK,
        "dup_dismiss": OK,
        "dup_merge": OK,
        "bulk": OK,
        "bulk_tag": OK,
        "fields": OK,
        "reports": OK,
        "slas": OK,
        "groups": OK,
        "plugins": FORBIDDEN,
        "enable": FORBIDDEN,
        "resend": FORBIDDEN,
        "outbox": FORBIDDEN,
        "members": FORBIDDEN,
        "people_audit": FORBIDDEN,
        **{name: FORBIDDEN for name in ADMIN_ONLY},
        **SELF_SERVICE,
        "sso": FORBIDDEN,
        "sso_put": FORBIDDEN,
        "tf_policy": FORBIDDEN,
        "tf_policy_put": FORBIDDEN,
        "my_two_factor": OK,
        "my_two_factor_enrol": OK,
        "invite": FORBIDDEN,
        "invitations": FORBIDDEN,
        "invitation_resend": FORBIDDEN,
        "invitation_cancel": FORBIDDEN,
        "password_reset": OK,
    },
    "admin": {
        name: OK
        for name in (
            "list",
            "draft",
            "draft_put",
            "draft_internal",
            "detail",
            "comment",
            "internal",
            "priority",
            "assign",
            "attachments",
            "download",
            "audit",
            "merge",
            "dup_list",
            "dup_dismiss",
            "dup_merge",
            "bulk",
            "bulk_tag",
            "fields",
            "reports",
            "slas",
            "groups",
            "plugins",
            "enable",
            "resend",
            "outbox",
            "members",
            "people_audit",
            *ADMIN_ONLY,
            "sso",
            "sso_put",
            "tf_policy",
            "tf_policy_put",
            "my_two_factor",
            "my_two_factor_enrol",
            "invite",
            "invitations",
            "invitation_resend",
            "invitation_cancel",
            "password_reset",
            *READERS_ONLY,
            *ORG_READS,
            *ORG_STAFF,
        )
    }
    | SELF_SERVICE,
    "manager": {
        "draft": OK,
        "draft_put": FORBIDDEN,
        "draft_internal": FORBIDDEN,
        **dict.fromkeys(READERS_ONLY, OK),
        **dict.fromkeys(ORG_READS, OK),
        **dict.fromkeys(ORG_STAFF, FORBIDDEN),
        "list": OK,
        "detail": OK,
        "comment": FORBIDDEN,
        "internal": FORBIDDEN,
        "priority": FORBIDDEN,
        "assign": FORBIDDEN,
        "attachments": OK,
        "download": OK,
        "audit": FORBIDDEN,
        "merge": FORBIDDEN,
        "dup_list": OK,
        "dup_dismiss": FORBIDDEN,
        "dup_merge": FORBIDDEN,
        "bulk": FORBIDDEN,
        "bulk_tag": FORBIDDEN,
        "fields": OK,
        "reports": OK,
        "slas": OK,
        "groups": FORBIDDEN,
        "plugins": FORBIDDEN,
        "enable": FORBIDDEN,
        "resend": FORBIDDEN,
        "outbox": FORBIDDEN,
        "members": FORBIDDEN,
        "people_audit": FORBIDDEN,
        **{name: FORBIDDEN for name in ADMIN_ONLY},
        **SELF_SERVICE,
        "sso": FORBIDDEN,
        "sso_put": FORBIDDEN,
        "tf_policy": FORBIDDEN,
        "tf_policy_put": FORBIDDEN,
        "my_two_factor": OK,
        "my_two_factor_enrol": OK,
        "invite": FORBIDDEN,
        "invitations": FORBIDDEN,
        "invitation_resend": FORBIDDEN,
        "invitation_cancel": FORBIDDEN,
        "password_reset": OK,
    },
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_role_matrix(org: TenantSet, role: str) -> None:
    ids = _setup(org)
    member = getattr(org, role)
    for name, (method, url, body) in _calls(ids, org.agent.user_id, role).items():
        r = member.client.request(method, url, json=body, headers=member.headers)
        expected = EXPECTED[role][name]
        if expected == OK:
            assert r.status_code < 300, f"{role} {name}: {r.status_code} {r.text}"
        else:
            assert r.status_code == expected, f"{role} {name}: {r.status_code} {r.text}"
            assert r.json()["detail"]


@pytest.mark.parametrize("role", ["end_user", "agent", "admin", "manager"])
def test_other_tenant_objects_are_404(org: TenantSet, other_org: TenantSet, role: str) -> None:
    ids = _setup(org)
    member = getattr(other_org, role)
    for name, (method, url, body) in _calls(ids, other_org.agent.user_id).items():
        if not url.startswith(T) or name in ("list", "bulk", "bulk_tag", "ticket_export"):
            continue
        r = member.client.request(method, url, json=body, headers=member.headers)
        assert r.status_code == 404, f"{role} {name}: {r.status_code} {r.text}"


def test_another_tenants_pending_address_is_404_to_resend(
    org: TenantSet, other_org: TenantSet
) -> None:
    _setup(org)
    r = other_org.admin.post(
        "/api/v1/admin/plugins/email/keys/verify/", json={"key": "pending@claimed.example"}
    )
    assert r.status_code == 404, r.text


def test_another_tenants_invitation_is_404(org: TenantSet, other_org: TenantSet) -> None:
    ids = _setup(org)
    for action in ("resend", "cancel"):
        r = other_org.admin.post(f"/api/v1/admin/invitations/{ids['inv']}/{action}/")
        assert r.status_code == 404, r.text
    assert len(org.admin.get("/api/v1/admin/invitations/").json()) == 2


def test_bulk_on_other_tenant_ids_changes_nothing(org: TenantSet, other_org: TenantSet) -> None:
    ids = _setup(org)
    r = other_org.agent.post(f"{T}bulk/", json={"ids": [ids["tid"]], "action": "close"})
    assert r.status_code == 200
    assert r.json()["results"] == [{"id": ids["tid"], "ok": False, "error": "not found"}]
    assert org.agent.get(f"{T}{ids['tid']}/").json()["status"] == "New"


def test_end_user_never_sees_internal_notes(org: TenantSet) -> None:
    ids = _setup(org)
    org.agent.post(
        f"{T}{ids['tid']}/comment/", json={"comment": "secret note", "is_internal": True}
    )
    org.agent.post(f"{T}{ids['tid']}/comment/", json={"comment": "public answer"})
    seen = [c["comment"] for c in org.end_user.get(f"{T}{ids['tid']}/").json()["comments"]]
    assert seen == ["public answer"]
    seen = [c["comment"] for c in org.end_user.get(f"{T}{ids['tid']}/comments/").json()]
    assert seen == ["public answer"]
    agent_seen = [c["comment"] for c in org.agent.get(f"{T}{ids['tid']}/").json()["comments"]]
    assert "secret note" in agent_seen


@pytest.mark.parametrize("role", ["end_user", "agent", "admin", "manager"])
def test_other_tenant_members_and_tokens_are_404(
    org: TenantSet, other_org: TenantSet, role: str
) -> None:
    """Members and tokens of another tenant: 404 to its admin (403 to roles that may not do it
    at all), and nobody's token of another tenant can be revoked through the own-token route."""
    ids = _setup(org)
    member = getattr(other_org, role)
    calls = _calls(ids, org.agent.user_id, role)
    for name in ("role_change", "deactivate", "reactivate", "remove", "revoke_any_token"):
        method, url, body = calls[name]
        r = member.client.request(method, url, json=body, headers=member.headers)
        assert r.status_code == (404 if role == "admin" else 403), f"{role} {name}: {r.text}"
    r = member.post(f"/api/v1/auth/tokens/{ids[role]}/revoke/")
    assert r.status_code == 404, r.text
    assert getattr(org, role).get("/api/v1/me").status_code == 200


def test_another_tenants_held_files_are_404(org: TenantSet, other_org: TenantSet) -> None:
    ids = _setup(org)
    r = other_org.admin.post(f"/api/v1/admin/quarantine/{ids['held']}/release/")
    assert r.status_code == 404, r.text
    r = other_org.admin.client.delete(
        f"/api/v1/admin/quarantine/{ids['held2']}/", headers=other_org.admin.headers
    )
    assert r.status_code == 404, r.text
    assert other_org.admin.get("/api/v1/admin/quarantine/").json() == []
    listed = {a["id"] for a in org.admin.get("/api/v1/admin/quarantine/").json()}
    assert {ids["held"], ids["held2"]} <= listed
