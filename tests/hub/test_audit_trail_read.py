"""Reading the whole audit trail: both trails through the API and the console, filtered by
actor, action, dates and ticket, paged by keyset, exported as streamed CSV; admins only, and
only their own tenant's rows."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from core.clock import now
from hub.api.deps import SESSION_COOKIE, make_session_cookie

URL = "/api/v1/admin/audit/"
T = "/api/v1/support/tickets/"
NEW = {"subject": "Billing twice", "description": "Charged twice in May.", "category": "Billing"}


def _tickets(org, n: int = 2) -> list[int]:  # type: ignore[no-untyped-def]
    ids = []
    for i in range(n):
        tid = org.end_user.post(T, json={**NEW, "subject": f"S{i}"}).json()["id"]
        org.agent.patch(f"{T}{tid}/", json={"priority": "High"})
        ids.append(tid)
    return ids


def test_ticket_trail_filters_and_pages(org, other_org) -> None:  # type: ignore[no-untyped-def]
    a, b = _tickets(org)
    _tickets(other_org)
    org.admin.post("/api/v1/admin/plugins/email/enable/")
    body = org.admin.get(URL, params={"trail": "ticket"}).json()
    actions = [(e["action"], e["ticket_id"]) for e in body["results"]]
    assert ("Plugin Enabled", None) in actions  # tenant settings, readable at last
    assert ("Priority Change", a) in actions and ("Priority Change", b) in actions
    assert {e["trail"] for e in body["results"]} == {"ticket"}
    only_a = org.admin.get(URL, params={"ticket": a}).json()["results"]
    assert only_a and {e["ticket_id"] for e in only_a} == {a}
    by_agent = org.admin.get(URL, params={"trail": "ticket", "actor": org.agent.email}).json()
    assert {e["actor_email"] for e in by_agent["results"]} == {org.agent.email}
    assert {e["action"] for e in by_agent["results"]} >= {"Priority Change"}
    changes = org.admin.get(URL, params={"trail": "ticket", "action": "Priority Change"}).json()
    assert [e["ticket_id"] for e in changes["results"]] == [b, a]
    future = (now() + timedelta(days=1)).isoformat()
    assert org.admin.get(URL, params={"trail": "ticket", "since": future}).json()["results"] == []
    assert org.admin.get(URL, params={"trail": "ticket", "until": future}).json()["results"]
    # Keyset pages of one row walk the whole filtered trail, each row once.
    seen, before = [], None
    while True:
        params = {"trail": "ticket", "limit": 1, **({"before": before} if before else {})}
        page = org.admin.get(URL, params=params).json()
        seen += [e["id"] for e in page["results"]]
        before = page["next_before"]
        if before is None:
            break
    assert seen == [e["id"] for e in body["results"]]
    # Another tenant's ticket number filters to nothing; bad input is a 422.
    theirs = other_org.admin.get(URL, params={"trail": "ticket"}).json()["results"][0]
    assert org.admin.get(URL, params={"ticket": theirs["ticket_id"] + 1000}).json()["results"] == []
    assert org.admin.get(URL, params={"trail": "everything"}).status_code == 422
    assert org.admin.get(URL, params={"since": "yesterday"}).status_code == 422
    assert org.manager.get(URL, params={"trail": "ticket"}).status_code == 403


def test_csv_export_streams_the_filtered_trail_and_is_audited(org, other_org) -> None:  # type: ignore[no-untyped-def]
    a, _ = _tickets(org)
    _tickets(other_org)
    r = org.admin.get(f"{URL}export/", params={"trail": "ticket"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "audit-ticket.csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    api = org.admin.get(URL, params={"trail": "ticket", "limit": 200}).json()["results"]
    assert [int(x["id"]) for x in rows] == [e["id"] for e in api]
    assert {x["trail"] for x in rows} == {"ticket"}
    only_a = list(
        csv.DictReader(io.StringIO(org.admin.get(f"{URL}export/", params={"ticket": a}).text))
    )
    assert only_a and {x["ticket_id"] for x in only_a} == {str(a)}
    people = org.admin.get(URL).json()["results"]
    assert people[0]["action"] == "audit.exported" and people[0]["details"] == {
        "ticket": str(a),
        "trail": "ticket",
    }
    assert {e["action"] for e in other_org.admin.get(URL).json()["results"]} == {"token.used"}
    assert org.agent.get(f"{URL}export/").status_code == 403


def test_console_page_filters_pages_and_exports(hub, client, org, other_org) -> None:  # type: ignore[no-untyped-def]
    a, b = _tickets(org, 3)[:2]
    _tickets(other_org)
    value, _ = make_session_cookie(hub, user_id=org.admin.user_id, tenant_id=org.tenant[0])
    client.cookies.set(SESSION_COOKIE, value)
    page = client.get("/admin/audit", params={"trail": "ticket"})
    assert page.status_code == 200 and "Priority Change" in page.text
    assert f'href="/tickets/{a}"' in page.text and "unsealed" in page.text
    one = client.get("/admin/audit", params={"ticket": str(b)})
    assert f'href="/tickets/{b}"' in one.text and f'href="/tickets/{a}"' not in one.text
    bad = client.get("/admin/audit", params={"ticket": "abc", "since": "2026-13-01"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    assert "enter a ticket number" in bad.text and "enter a date as YYYY-MM-DD" in bad.text
    csv_body = client.get(
        "/admin/audit/export", params={"trail": "ticket", "action": "Priority Change"}
    )
    assert csv_body.status_code == 200
    got = list(csv.DictReader(io.StringIO(csv_body.text)))
    assert len(got) == 3 and {x["action"] for x in got} == {"Priority Change"}
    value, _ = make_session_cookie(hub, user_id=org.manager.user_id, tenant_id=org.tenant[0])
    client.cookies.set(SESSION_COOKIE, value)
    assert client.get("/admin/audit", params={"trail": "ticket"}).status_code == 404
    assert client.get("/admin/audit/export").status_code == 404
    client.cookies.clear()
