"""The outbox page: failed deliveries with their error, retried by an admin of the tenant."""

from __future__ import annotations

from core.models import OutboxEvent
from tests.hub.web.conftest import sign_in
from tests.hub.web.samples import failed_event


def test_failed_events_are_shown_and_retried(app, web_org, hub, make_tenant, make_member) -> None:  # type: ignore[no-untyped-def]
    event_id = failed_event(hub, web_org["admin"].tenant_id)
    other_tenant = make_tenant()
    theirs = failed_event(hub, other_tenant[0], error="their secret error")
    admin = sign_in(app, web_org["admin"].email)
    page = admin.page("/admin/outbox")
    assert f"#{event_id} ticket.created" in page and "relay said 554 no" in page
    assert "their secret error" not in page
    # Another tenant's event is not retried from here.
    refused = admin.post(f"/admin/outbox/{theirs}/retry")
    assert refused.status_code == 303 and "not a failed event" in admin.page("/admin/outbox")
    assert admin.post(f"/admin/outbox/{event_id}/retry").status_code == 303
    assert f"Event {event_id} is queued again" in admin.page("/admin/outbox?status=pending")
    with hub.session() as s:
        assert s.get(OutboxEvent, event_id).status == "pending"  # type: ignore[union-attr]
        assert s.get(OutboxEvent, theirs).status == "failed"  # type: ignore[union-attr]
    for role in ("agent", "manager", "end_user"):
        web = sign_in(app, web_org[role].email)
        assert web.client.get("/admin/outbox").status_code == 404, role
