"""Organisations and people pages through the console's forms: admins add and edit
organisations (refusals beside the field), agents see people and tickets, set a person's
organisation, review and confirm a merge, and open tickets on behalf of a requester; end users
never see any of it."""

from __future__ import annotations

import csv
import html
import io
import re

from sqlalchemy import select

from core.models import Ticket, User

T = "/api/v1/support/tickets/"
NEW = {"subject": "VPN drops", "description": "Every hour.", "category": "Technical Issue"}


def test_admins_add_and_edit_organisations(signed_in, web_org, make_member) -> None:  # type: ignore[no-untyped-def]
    tenant = (web_org["admin"].tenant_id, web_org["admin"].tenant_slug)
    ann = make_member(tenant, "end_user", email="ann@acme.test")
    admin = signed_in(web_org["admin"])
    page = admin.page("/organisations")
    assert "Add an organisation" in page
    r = admin.post("/organisations", {"name": "Acme", "domains": "gmail.com", "notes": ""})
    assert r.status_code == 422 and "free-mail" in r.text and 'aria-invalid="true"' in r.text
    r = admin.post("/organisations", {"name": "Acme", "domains": "acme.test", "notes": "VIP"})
    assert r.status_code == 303, r.text[:300]
    url = r.headers["location"]
    page = admin.page(url)
    assert "ann@acme.test" in page and f'href="/people/{ann.user_id}"' in page
    r = admin.post(url, {"name": "Acme Ltd", "domains": "acme.test acme2.test", "notes": "VIP"})
    assert r.status_code == 303
    assert "Acme Ltd" in admin.page("/organisations?q=ltd")
    assert "Acme Ltd" not in admin.page("/organisations?q=zzz")
    r = admin.post(f"{url}/delete")
    assert r.status_code == 303
    assert admin.client.get(url).status_code == 404


def test_end_users_never_see_people_or_organisations(signed_in, web_org) -> None:  # type: ignore[no-untyped-def]
    user = signed_in(web_org["end_user"])
    for url in (
        "/organisations",
        f"/people/{web_org['end_user'].user_id}",
        "/people/suggest?requester_email=ex",
    ):
        assert user.client.get(url).status_code == 404, url
    assert "Requester's email" not in user.page("/tickets/new")


def test_person_page_set_organisation_and_merge(hub, signed_in, web_org, make_member) -> None:  # type: ignore[no-untyped-def]
    tenant = (web_org["agent"].tenant_id, web_org["agent"].tenant_slug)
    old = make_member(tenant, "end_user", email="pat@old.test")
    new = make_member(tenant, "end_user", email="pat@new.test")
    tid = old.post(T, json=NEW).json()["id"]
    web_org["admin"].post("/api/v1/support/organisations/", json={"name": "Old Co", "domains": []})
    agent = signed_in(web_org["agent"])
    page = agent.page(f"/people/{old.user_id}")
    assert f"#{tid} VPN drops" in page and "Email: pat@old.test" in page
    assert f'href="/people/{old.user_id}"' in agent.page(f"/tickets/{tid}")
    assert f'href="/people/{old.user_id}"' in agent.page("/queue")
    org_id = re.search(r'<option value="(\d+)"[^>]*>Old Co', page).group(1)  # type: ignore[union-attr]
    r = agent.post(f"/people/{old.user_id}/organisation", {"organisation_id": org_id})
    assert r.status_code == 303
    assert 'href="/organisations/' in agent.page(f"/people/{old.user_id}")
    assert "pat@new.test" in agent.page("/people/suggest?target=pat@n")
    # Refused: unknown address and a staff target, shown on the person's page.
    r = agent.client.get(f"/people/{old.user_id}/merge", params={"target": "nobody@x.test"})
    assert r.status_code == 422 and "nobody here" in r.text
    r = agent.client.get(f"/people/{old.user_id}/merge", params={"target": web_org["admin"].email})
    assert r.status_code == 409 and "staff" in r.text
    confirm = agent.page(f"/people/{old.user_id}/merge?target=pat@new.test")
    assert "1 tickets" in confirm and "Merge into pat@new.test" in confirm
    r = agent.post(f"/people/{old.user_id}/merge", {"target_id": str(new.user_id)})
    assert r.status_code == 303 and r.headers["location"] == f"/people/{new.user_id}"
    with hub.session() as s:
        assert s.scalar(select(Ticket.created_by).where(Ticket.id == tid)) == new.user_id
        assert s.scalar(select(User.is_active).where(User.id == old.user_id)) is False
    assert "(deactivated)" in agent.page(f"/people/{old.user_id}")


def test_agents_open_tickets_on_behalf_of_a_requester(hub, signed_in, web_org, make_member) -> None:  # type: ignore[no-untyped-def]
    tenant = (web_org["agent"].tenant_id, web_org["agent"].tenant_slug)
    known = make_member(tenant, "end_user", email="known@cust.test")
    agent = signed_in(web_org["agent"])
    page = agent.page(f"/tickets/new?requester_email={known.email}")
    assert 'value="known@cust.test"' in page
    form = {**NEW, "priority": "Medium"}
    r = agent.post("/tickets/new", {**form, "requester_email": known.email})
    assert r.status_code == 303, r.text[:300]
    r = agent.post("/tickets/new", {**form, "requester_email": "brand.new@cust.test"})
    assert r.status_code == 303
    r = agent.post("/tickets/new", {**form, "requester_email": "not an address"})
    assert r.status_code == 422 and 'aria-invalid="true"' in r.text
    with hub.session() as s:
        new_id = s.scalar(select(User.id).where(User.email == "brand.new@cust.test"))
        owners = set(s.scalars(select(Ticket.created_by).where(Ticket.tenant_id == tenant[0])))
    assert owners == {known.user_id, new_id}
    # A requester cannot open a ticket for someone else through the form.
    user = signed_in(web_org["end_user"])
    user.page("/tickets/new")
    r = user.post("/tickets/new", {**form, "requester_email": known.email})
    assert r.status_code == 403


def _count(hub, web, url: str) -> int:  # type: ignore[no-untyped-def]
    """Statements a page sends (GET pages read on the read engine)."""
    from sqlalchemy import event

    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA")):
            seen.append(statement)

    engines = {id(e): e for e in (hub.engine, hub.read_engine)}.values()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        web.page(url)
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_pages_do_not_grow_with_people_and_tickets(hub, signed_in, web_org, make_member) -> None:  # type: ignore[no-untyped-def]
    tenant = (web_org["agent"].tenant_id, web_org["agent"].tenant_slug)
    oid = (
        web_org["admin"]
        .post("/api/v1/support/organisations/", json={"name": "Bulk", "domains": ["bulk.test"]})
        .json()["id"]
    )
    people = []

    def fill(n: int) -> None:
        for _ in range(n):
            m = make_member(tenant, "end_user", email=f"p{len(people)}@bulk.test")
            m.post(T, json=NEW)
            m.post(T, json=NEW)
            people.append(m)

    agent = signed_in(web_org["agent"])
    fill(2)
    urls = ("/organisations", f"/organisations/{oid}", f"/people/{people[0].user_id}")
    for url in urls:
        agent.page(url)  # warm caches
    small = [_count(hub, agent, url) for url in urls]
    fill(8)
    assert [_count(hub, agent, url) for url in urls] == small


def test_reports_are_filtered_by_organisation_from_its_page(  # type: ignore[no-untyped-def]
    hub, signed_in, web_org, make_member
) -> None:
    """The organisation page links to its reports; the report form offers the organisation,
    agent group and tag filters the API takes, and the figures follow the filter."""
    tenant = (web_org["admin"].tenant_id, web_org["admin"].tenant_slug)
    ann = make_member(tenant, "end_user", email="ann@acme.test")
    admin = signed_in(web_org["admin"])
    r = admin.post("/organisations", {"name": "Acme", "domains": "acme.test", "notes": ""})
    assert r.status_code == 303, r.text[:300]
    oid = int(r.headers["location"].rstrip("/").rsplit("/", 1)[1])
    for who in (ann, ann, web_org["end_user"]):
        assert who.post(T, json=NEW).status_code == 201
    page = admin.page(f"/organisations/{oid}")
    link = f"/reports/volume?organisation={oid}"
    assert f'href="{link}"' in page
    report = admin.page(link)
    assert f'<option value="{oid}" selected>Acme</option>' in report
    assert 'id="r-tag" name="tag"' in report
    # The page's CSV button exports the filtered figures: Ann's two tickets, not the third.
    csv_link = re.search(
        r'href="(/api/v1/support/reports/volume/export/\?[^"]*format=csv)"', report
    )
    assert csv_link is not None and f"organisation={oid}" in csv_link.group(1)
    exported = admin.client.get(html.unescape(csv_link.group(1)))
    assert exported.status_code == 200, exported.text[:300]
    rows = list(csv.reader(io.StringIO(exported.text)))
    created = rows[next(i for i, r in enumerate(rows) if "created" in r)].index("created")
    total = sum(int(r[created]) for r in rows if len(r) > created and r[created].isdigit())
    assert total == 2
    api = web_org["manager"].get("/api/v1/support/reports/volume/", params={"organisation": oid})
    assert api.status_code == 200 and api.json()["totals"]["created"] == 2
    person = admin.page(f"/people/{ann.user_id}")
    assert f'href="/reports/volume?requester={ann.user_id}"' in person
    assert f"requester #{ann.user_id}" in admin.page(f"/reports/volume?requester={ann.user_id}")
