"""Reports: volume by status, priority and category over a date range, as JSON, CSV and Excel."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from core import clock
from hub.context import Hub
from tests.conftest import TenantSet

T = "/api/v1/support/tickets/"
R = "/api/v1/support/reports/"


def _ticket(org: TenantSet, at: datetime, **fields) -> int:  # type: ignore[no-untyped-def]
    clock.set_clock(lambda: at)
    body = {"subject": "s", "description": "d", "category": "Other", **fields}
    return org.end_user.post(T, json=body).json()["id"]


def test_volume_by_dimension_and_range(org: TenantSet, other_org: TenantSet) -> None:
    jan, feb = datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 2, 10, tzinfo=UTC)
    _ticket(org, jan, priority="High", category="Billing")
    _ticket(org, feb, priority="High")
    tid = _ticket(org, feb, priority="Low")
    _ticket(other_org, feb, priority="Critical")
    org.agent.patch(f"{T}{tid}/", json={"status": "Resolved"})
    org.end_user.patch(f"{T}{tid}/", json={"satisfaction_rating": 4})
    r = org.manager.get(R, params={"start": "2026-02-01T00:00:00Z", "end": "2026-03-01T00:00:00Z"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 2
    assert body["by_priority"] == {"High": 1, "Low": 1}
    assert body["by_category"] == {"Other": 2}
    assert body["by_status"] == {"New": 1, "Resolved": 1}
    assert body["csat"] == {"rated": 1, "average": 4.0}
    assert org.agent.get(R).json()["total"] == 3
    assert org.end_user.get(R).status_code == 403
    bad = org.manager.get(
        R, params={"start": "2026-03-01T00:00:00Z", "end": "2026-02-01T00:00:00Z"}
    )
    assert bad.status_code == 422


def test_export_csv_and_xlsx(org: TenantSet) -> None:
    _ticket(org, datetime(2026, 1, 10, tzinfo=UTC), priority="Critical", category="Security")
    r = org.manager.get(f"{R}export/", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["dimension", "value", "tickets"]
    assert ["priority", "Critical", "1"] in rows and ["category", "Security", "1"] in rows
    r = org.manager.get(f"{R}export/", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = [tuple(c.value for c in row) for row in sheet.iter_rows()]
    assert ("priority", "Critical", 1) in values
    assert org.manager.get(f"{R}export/", params={"format": "pdf"}).status_code == 422


def _some_tickets(org: TenantSet) -> list[int]:
    base = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    ids = []
    for n, (category, priority) in enumerate(
        [("Billing", "High"), ("Access", "Low"), ("Billing", "Low"), ("Other", "Critical")]
    ):
        at = base.replace(hour=10 + n)
        tid = _ticket(org, at, category=category, priority=priority, subject=f"=cmd|{n}")
        clock.set_clock(lambda at=at: at.replace(minute=30))
        org.agent.post(f"{T}{tid}/comment/", json={"comment": "looking"})
        org.agent.patch(f"{T}{tid}/", json={"status": "Resolved"})
        ids.append(tid)
    clock.set_clock(lambda: base.replace(day=20))
    return ids


RANGE = {"start": "2026-03-01", "end": "2026-03-10"}


def test_report_exports_open_back_with_figures_and_filters(org: TenantSet) -> None:
    _some_tickets(org)
    q = {**RANGE, "category": "Billing"}
    r = org.manager.get(f"{R}first-response/export/", params={**q, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["First response time"]
    assert ["filter category", "Billing"] in rows and ["filter start", "2026-03-01"] in rows
    header = rows.index(["group", "time", "tickets", "mean", "median", "90th percentile"])
    assert rows[header + 1][:5] == ["all", "calendar", "2", "30.0", "30.0"]

    r = org.manager.get(f"{R}volume/export/", params={**q, "format": "xlsx"})
    book = load_workbook(io.BytesIO(r.content), read_only=True)
    assert book.sheetnames[0] == "Filters"
    summary = [tuple(c.value for c in row) for row in book["Filters"].iter_rows()]
    assert ("filter category", "Billing") in summary
    series = [tuple(c.value for c in row) for row in book.worksheets[1].iter_rows()]
    assert series[0] == (
        "period",
        "last day",
        "created",
        "resolved",
        "closed",
        "reopened",
        "backlog",
    )
    assert ("2026-03-02", "2026-03-02", 2, 2, 0, 0, 0) in series

    r = org.manager.get(f"{R}trends/export/", params={**RANGE, "format": "pdf"})
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    text = _pdf_text(r.content)
    assert "Category, priority and channel trends" in text
    assert "2026-03-01" in text and "Billing" in text and "Page 1 of" in text


def _pdf_text(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (Debian poppler-utils) is not installed")
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode()


def test_ticket_list_exports_with_the_queue_filters(org: TenantSet) -> None:
    ids = _some_tickets(org)
    r = org.manager.get(
        "/api/v1/support/exports/tickets/", params={"category": "Billing", "format": "csv"}
    )
    assert r.status_code == 200, r.text
    rows = list(csv.reader(io.StringIO(r.text)))
    assert ["filter category", "Billing"] in rows
    header = rows.index(next(row for row in rows if row[:2] == ["id", "subject"]))
    body = rows[header + 1 :]
    assert [int(row[0]) for row in body] == [ids[0], ids[2]]
    # A subject a spreadsheet would run as a formula is written as text.
    assert all(row[1].startswith("'=cmd|") for row in body)
    r = org.manager.get(
        "/api/v1/support/exports/tickets/", params={"priority": "Low", "format": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(r.content), read_only=True).worksheets[1]
    got = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert got == [ids[1], ids[2]]
    r = org.manager.get(
        "/api/v1/support/exports/tickets/", params={"category": "Billing", "format": "pdf"}
    )
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    text = _pdf_text(r.content)
    assert "category" in text and "Billing" in text and "=cmd|0" in text and "Page 1 of 1" in text
    bad = org.manager.get("/api/v1/support/exports/tickets/", params={"colour": "red"})
    assert bad.status_code == 422
    assert org.end_user.get("/api/v1/support/exports/tickets/").status_code == 403


def _delete(member, url: str):  # type: ignore[no-untyped-def]
    return member.client.delete(url, headers=member.headers)


def test_saved_reports_are_personal_or_shared(org: TenantSet, other_org: TenantSet) -> None:
    S = f"{R}saved/"
    body = {
        "name": "Billing week",
        "report": "volume",
        "query": {"category": "Billing", "interval": "week"},
    }
    mine = org.manager.post(S, json=body)
    assert mine.status_code == 201, mine.text
    shared = org.agent.post(S, json={**body, "name": "Team view", "shared": True})
    assert shared.status_code == 201
    assert [r["name"] for r in org.manager.get(S).json()] == ["Billing week", "Team view"]
    assert [r["name"] for r in org.admin.get(S).json()] == ["Team view"]
    assert org.manager.post(S, json=body).status_code == 409
    bad = org.manager.post(S, json={**body, "name": "x", "query": {"colour": "red"}})
    assert bad.status_code == 422 and "colour" in bad.text
    assert org.end_user.get(S).status_code == 403
    # Another tenant's saved report does not exist for this one; a shared one is its owner's
    # or an admin's to delete.
    assert _delete(other_org.admin, f"{S}{mine.json()['id']}/").status_code == 404
    assert _delete(org.admin, f"{S}{mine.json()['id']}/").status_code == 404
    assert _delete(org.manager, f"{S}{shared.json()['id']}/").status_code == 403
    assert _delete(org.admin, f"{S}{shared.json()['id']}/").status_code == 204
    assert _delete(org.manager, f"{S}{mine.json()['id']}/").status_code == 204
    assert org.manager.get(S).json() == []


def test_a_ticket_older_than_the_rollups_is_replayed_on_its_next_change(
    org: TenantSet, hub: Hub
) -> None:
    from sqlalchemy import delete, select

    from core.models import ReportDaily, ReportFact, ReportMove
    from core.reports import rollups

    tid = _some_tickets(org)[0]
    with hub.session() as s:  # as if the ticket predated migration 0022
        for model in (ReportDaily, ReportMove, ReportFact):
            s.execute(delete(model))
    assert org.end_user.patch(f"{T}{tid}/", json={"status": "Reopened"}).status_code == 200

    def rows() -> tuple[list[tuple], ...]:  # type: ignore[type-arg]
        with hub.read_session() as s:
            return (
                [
                    tuple(r)
                    for r in s.execute(
                        select(ReportFact.ticket_id, ReportFact.status, ReportFact.reopen_count)
                    )
                ],
                sorted(
                    tuple(r)
                    for r in s.execute(
                        select(ReportMove.kind, ReportMove.day).where(ReportMove.ticket_id == tid)
                    )
                ),
                sorted(tuple(r) for r in s.execute(select(ReportDaily.kind, ReportDaily.count))),
            )

    live = rows()
    assert live[0] == [(tid, "Reopened", 1)]
    assert [k for k, _ in live[1]] == ["created", "reopened", "reply", "resolved"]
    with hub.session() as s:
        rollups.rebuild(s, org.tenant[0])
    rebuilt = rows()
    assert [r for r in rebuilt[0] if r[0] == tid] == live[0]
    assert rebuilt[1] == live[1]
