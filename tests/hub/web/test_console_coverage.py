"""Every resource of the API has the console page where a person does the same work (an
API-only feature is not done): a new API resource fails here until it is given its page, and
every page named answers 200 to the role that uses it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.hub.web.conftest import sign_in

# API resource (its first four path segments) -> (the console page that does its work, who).
CONSOLE: dict[str, tuple[str, str]] = {
    "/api/v1/account/exports": ("/account/privacy", "end_user"),
    "/api/v1/admin/audit": ("/admin/audit", "admin"),
    "/api/v1/admin/duplicates": ("/admin/duplicates", "admin"),
    "/api/v1/admin/email-signature": ("/admin/email-templates", "admin"),
    "/api/v1/admin/email-templates": ("/admin/email-templates", "admin"),
    "/api/v1/admin/holds": ("/admin/retention", "admin"),
    "/api/v1/admin/invitations": ("/admin/members", "admin"),
    "/api/v1/admin/members": ("/admin/members", "admin"),
    "/api/v1/admin/notifications": ("/admin/notifications", "admin"),
    "/api/v1/admin/outbox": ("/admin/outbox", "admin"),
    "/api/v1/admin/people": ("/admin/members", "admin"),  # each member's Data page
    "/api/v1/admin/plugins": ("/admin/plugins", "admin"),
    "/api/v1/admin/quarantine": ("/admin/quarantine", "admin"),
    "/api/v1/admin/rate-limit": ("/admin/tokens", "admin"),
    "/api/v1/admin/retention": ("/admin/retention", "admin"),
    "/api/v1/admin/scan-policy": ("/admin/quarantine", "admin"),
    "/api/v1/admin/search": ("/admin/search", "admin"),
    "/api/v1/admin/sso": ("/admin/security", "admin"),
    "/api/v1/admin/tokens": ("/admin/tokens", "admin"),
    "/api/v1/admin/two-factor": ("/admin/security", "admin"),
    "/api/v1/auth/login": ("/login", "anonymous"),
    "/api/v1/auth/logout": ("/account", "end_user"),  # the header's Sign out
    "/api/v1/auth/password-reset": ("/password-reset", "anonymous"),
    "/api/v1/auth/signin-link": ("/signin-link", "anonymous"),
    "/api/v1/auth/tokens": ("/account", "agent"),
    "/api/v1/me": ("/account", "end_user"),
    "/api/v1/me/password": ("/account", "end_user"),
    "/api/v1/me/sessions": ("/account", "end_user"),
    "/api/v1/me/two-factor": ("/account/two-factor", "end_user"),
    "/api/v1/notifications/": ("/notifications", "end_user"),
    "/api/v1/notifications/preferences": ("/account/notifications", "end_user"),
    "/api/v1/notifications/read": ("/notifications", "end_user"),
    "/api/v1/notifications/read-all": ("/notifications", "end_user"),
    "/api/v1/notifications/{notification_id}": ("/notifications", "end_user"),
    "/api/v1/privacy/exports": ("/account/privacy", "end_user"),
    "/api/v1/support/automation": ("/admin/agents", "admin"),
    "/api/v1/support/exports": ("/queue", "manager"),
    "/api/v1/support/fields": ("/admin/fields", "admin"),
    "/api/v1/support/groups": ("/admin/groups", "admin"),
    "/api/v1/support/kb": ("/admin/kb", "agent"),
    "/api/v1/support/macros": ("/admin/macros", "admin"),
    "/api/v1/support/organisations": ("/organisations", "agent"),
    "/api/v1/support/people": ("/organisations", "agent"),  # and each /people/{id}
    "/api/v1/support/reports": ("/reports", "manager"),
    "/api/v1/support/rules": ("/admin/rules", "admin"),
    "/api/v1/support/slas": ("/admin/sla", "admin"),
    "/api/v1/support/tags": ("/admin/tags", "admin"),
    "/api/v1/support/tickets": ("/queue", "agent"),
}


def api_resources(app: Any) -> set[str]:
    from fastapi.routing import _IncludedRouter

    def walk(routes: list[Any]) -> Iterator[str]:
        for route in routes:
            if isinstance(route, _IncludedRouter):
                yield from walk(route.effective_candidates())
                continue
            original = getattr(route, "original_route", route)
            yield getattr(route, "path", "") or getattr(original, "path", "")

    return {"/".join(p.split("/")[:5]) for p in walk(app.routes) if p.startswith("/api/v1/")}


def test_every_api_resource_has_its_console_page(app, web_org) -> None:  # type: ignore[no-untyped-def]
    found = api_resources(app)
    assert len(found) > 30
    missing = sorted(found - CONSOLE.keys())
    assert not missing, f"API resources without a console page: {missing}"
    stale = sorted(CONSOLE.keys() - found)
    assert not stale, f"pages named for API resources that are gone: {stale}"
    signed: dict[str, Any] = {}
    for page, role in sorted(set(CONSOLE.values())):
        if role == "anonymous":
            from fastapi.testclient import TestClient

            with TestClient(app) as anonymous:
                r = anonymous.get(page)
            assert r.status_code == 200, (page, r.status_code)
            continue
        if role not in signed:
            signed[role] = sign_in(app, web_org[role].email)
        signed[role].page(page)  # asserts 200
