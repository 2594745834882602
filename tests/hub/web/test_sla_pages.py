"""SLA policies in the console: targets per category and priority, business hours with split
shifts, holidays typed in or imported for a country and year, which policy a ticket gets, and
refused values kept in their fields."""

from __future__ import annotations

from sqlalchemy import select

from core.models import SlaPolicy
from tests.hub.web.conftest import sign_in

WEEK = {
    f"{d}_{n}_{k}": ""
    for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    for n in (0, 1)
    for k in ("start", "end")
}
FORM = {
    **WEEK,
    "category": "Billing",
    "priority": "High",
    "response_minutes": "60",
    "resolution_minutes": "480",
    "warning_percent": "75",
    "is_active": "on",
    "timezone": "Europe/Berlin",
    "mon_0_start": "08:00",
    "mon_0_end": "12:00",
    "mon_1_start": "13:00",
    "mon_1_end": "17:00",
    "tue_0_start": "09:00",
    "tue_0_end": "17:00",
    "holidays": "2026-12-24 Christmas Eve",
    "action": "save",
}


def test_create_a_policy_with_split_shifts_and_imported_holidays(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    admin = sign_in(app, web_org["admin"].email)
    admin.page("/admin/sla/new")
    imported = admin.post(
        "/admin/sla/new",
        {**FORM, "action": "import", "holiday_country": "de", "holiday_year": "2026"},
    )
    assert imported.status_code == 200, imported.text[:300]
    assert "public holidays added for DE 2026" in imported.text
    assert "2026-10-03 German Unity Day" in imported.text
    assert "2026-12-24 Christmas Eve" in imported.text  # the typed one is kept
    with hub.session() as s:
        assert s.scalar(select(SlaPolicy.id)) is None, "importing saves nothing"
    holidays = imported.text.split('name="holidays"', 1)[1].split(">", 1)[1].split("</textarea>")[0]
    saved = admin.post("/admin/sla/new", {**FORM, "holidays": holidays})
    assert saved.status_code == 303, saved.text[:500]
    with hub.session() as s:
        policy = s.scalars(select(SlaPolicy)).one()
        assert policy.category == "Billing" and policy.response_minutes == 60
        assert policy.calendar["hours"]["mon"] == [["08:00", "12:00"], ["13:00", "17:00"]]
        assert "2026-10-03" in policy.calendar["holidays"]
        assert "2026-12-24" in policy.calendar["holidays"]
    listing = admin.page("/admin/sla")
    assert "Europe/Berlin, 2 days a week" in listing
    which = admin.page("/admin/sla?priority=High&category=Billing")
    assert "gets the policy for Billing / High: first response within 60 min" in which
    other = admin.page("/admin/sla?priority=High&category=Access")
    assert "the default targets (no policy)" in other


def test_refused_values_stay_in_their_fields(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    admin = sign_in(app, web_org["admin"].email)
    admin.page("/admin/sla/new")
    bad_zone = admin.post("/admin/sla/new", {**FORM, "timezone": "Mars/Olympus"})
    assert bad_zone.status_code == 422 and "Mars/Olympus" in bad_zone.text
    assert "not a known IANA time zone" in bad_zone.text
    half = admin.post("/admin/sla/new", {**FORM, "wed_0_start": "09:00"})
    assert half.status_code == 422 and "Wednesday: a shift needs both" in half.text
    backwards = admin.post("/admin/sla/new", {**FORM, "resolution_minutes": "30"})
    assert backwards.status_code == 422 and "must not be shorter" in backwards.text
    bad_day = admin.post("/admin/sla/new", {**FORM, "holidays": "Christmas"})
    assert bad_day.status_code == 422 and "does not start with a date" in bad_day.text
    country = admin.post(
        "/admin/sla/new",
        {**FORM, "action": "import", "holiday_country": "XX", "holiday_year": "2026"},
    )
    assert country.status_code == 422 and "unknown country code XX" in country.text
    with hub.session() as s:
        assert s.scalar(select(SlaPolicy.id)) is None


def test_edit_and_delete_for_admins_of_the_tenant_only(
    app, web_org, hub, make_tenant, make_member
) -> None:  # type: ignore[no-untyped-def]
    admin = sign_in(app, web_org["admin"].email)
    admin.page("/admin/sla/new")
    assert admin.post("/admin/sla/new", {**FORM, "always_open": "on"}).status_code == 303
    with hub.session() as s:
        policy = s.scalars(select(SlaPolicy)).one()
        assert policy.calendar is None
        pid = policy.id
    page = admin.page(f"/admin/sla/{pid}")
    assert 'id="s-always" name="always_open" value="on" checked' in page
    edited = admin.post(f"/admin/sla/{pid}", {**FORM, "response_minutes": "45"})
    assert edited.status_code == 303
    with hub.session() as s:
        policy = s.get(SlaPolicy, pid)
        assert policy is not None and policy.response_minutes == 45 and policy.calendar
    for role in ("agent", "manager", "end_user"):
        web = sign_in(app, web_org[role].email)
        assert web.client.get("/admin/sla").status_code == 404
        assert web.client.get(f"/admin/sla/{pid}").status_code == 404
    other = make_member(make_tenant(), "admin", password="correct horse battery staple")
    web = sign_in(app, other.email)
    assert web.client.get(f"/admin/sla/{pid}").status_code == 404
    web.page("/admin/sla")
    assert web.post(f"/admin/sla/{pid}", FORM).status_code == 404
    assert web.post(f"/admin/sla/{pid}/delete").status_code == 404
    admin.page("/admin/sla")
    assert admin.post(f"/admin/sla/{pid}/delete").status_code == 303
    with hub.session() as s:
        assert s.get(SlaPolicy, pid) is None
