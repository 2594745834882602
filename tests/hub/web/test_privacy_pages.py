"""The person-data console pages over HTTP: an admin exports, holds and erases a member; the
retention page saves settings and records a dry run; a person exports their own data."""

from __future__ import annotations

import io
import re
import zipfile

from sqlalchemy import select

from core.models import User
from hub.context import Hub


def test_admin_exports_holds_and_erases_a_member(signed_in, web_org, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    admin, person = signed_in(web_org["admin"]), web_org["end_user"]
    assert f"/admin/people/{person.user_id}/privacy" in admin.page("/admin/members")
    url = f"/admin/people/{person.user_id}/privacy"
    page = admin.page(url)
    assert "Erase this person" in page and "tickets: 0" in page
    assert admin.post(f"/admin/people/{person.user_id}/export").status_code == 303
    page = admin.page(url)
    link = re.search(r'href="(/api/v1/privacy/exports/download/[^"]+)"', page)
    assert link, page
    got = admin.client.get(link.group(1))
    assert json_email(got.content) == person.email
    assert (
        admin.post(f"/admin/people/{person.user_id}/hold", {"reason": "case 7"}).status_code == 303
    )
    assert "blocked by a legal hold: case 7" in admin.page(url)
    r = admin.post(f"/admin/people/{person.user_id}/erase", {"confirm": f"erase {person.user_id}"})
    assert r.status_code == 303 and "/privacy" in r.headers["location"]
    hold_id = re.search(r"/admin/holds/(\d+)/release", admin.page(url)).group(1)  # type: ignore[union-attr]
    admin.post(f"/admin/holds/{hold_id}/release", {"back": url})
    admin.page(url)
    wrong = admin.post(f"/admin/people/{person.user_id}/erase", {"confirm": "yes"})
    assert wrong.status_code == 303 and "/privacy" in wrong.headers["location"]
    ok = admin.post(f"/admin/people/{person.user_id}/erase", {"confirm": f"erase {person.user_id}"})
    assert ok.status_code == 303 and ok.headers["location"] == "/admin/members"
    with hub.read_session() as s:
        email = s.scalar(select(User.email).where(User.id == person.user_id))
    assert email is not None and email.endswith("@erased.invalid")
    assert "also belongs to another organisation" not in admin.page("/admin/members")


def test_erasing_a_shared_account_says_what_stays(  # type: ignore[no-untyped-def]
    signed_in, web_org, hub: Hub, make_tenant, make_member
) -> None:
    """A member whose account another organisation shares: the page says the account stays
    there; the erasure goes through and the account keeps its address and sign-in."""
    admin, person = signed_in(web_org["admin"]), web_org["end_user"]
    make_member(make_tenant(), "end_user", email=person.email)
    url = f"/admin/people/{person.user_id}/privacy"
    assert "also belongs to another organisation" in admin.page(url)
    ok = admin.post(f"/admin/people/{person.user_id}/erase", {"confirm": f"erase {person.user_id}"})
    assert ok.status_code == 303 and ok.headers["location"] == "/admin/members"
    with hub.read_session() as s:
        user = s.get(User, person.user_id)
        assert user is not None and user.email == person.email and user.is_active
    signed_in(person)  # the sign-in form still lets them in (to the other organisation)


def json_email(data: bytes) -> str:
    import json

    return str(json.loads(zipfile.ZipFile(io.BytesIO(data)).read("person.json"))["email"])


def test_retention_page_saves_and_records_a_dry_run(signed_in, web_org) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in(web_org["admin"])
    assert "No runs yet." in admin.page("/admin/retention")
    r = admin.post(
        "/admin/retention",
        {"closed_ticket_days": "30", "export_days": "7", "closed_ticket_action": "delete"},
    )
    assert r.status_code == 303
    page = admin.page("/admin/retention")
    assert 'value="30"' in page and 'value="delete" selected' in page
    bad = admin.post("/admin/retention", {"raw_mail_days": "0", "export_days": "7"})
    assert bad.status_code == 303
    assert admin.post("/admin/retention/run", {"dry_run": "1"}).status_code == 303
    assert "dry run" in admin.page("/admin/retention")
    ticket = (
        web_org["end_user"]
        .post(
            "/api/v1/support/tickets/",
            json={"subject": "s", "description": "d", "category": "Technical Issue"},
        )
        .json()["id"]
    )
    admin.post("/admin/holds", {"ticket_id": str(ticket), "reason": "dispute 3"})
    assert f"Ticket #{ticket}: dispute 3" in admin.page("/admin/retention")
    admin.post("/admin/holds", {"ticket_id": "abc", "reason": "x"})
    assert "give the ticket" in admin.page("/admin/retention")
    agent = signed_in(web_org["agent"])
    assert agent.client.get("/admin/retention").status_code == 404


def test_a_person_exports_their_own_data(signed_in, web_org) -> None:  # type: ignore[no-untyped-def]
    me = signed_in(web_org["end_user"])
    assert "Export my data" in me.page("/account/privacy")
    assert me.post("/account/privacy/export").status_code == 303
    link = re.search(
        r'href="(/api/v1/privacy/exports/download/[^"]+)"', me.page("/account/privacy")
    )
    assert link
    assert json_email(me.client.get(link.group(1)).content) == web_org["end_user"].email
