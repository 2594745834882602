"""Reports: volume by status, priority and category over a date range, as JSON, CSV and Excel."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from openpyxl import load_workbook

from core import clock
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
