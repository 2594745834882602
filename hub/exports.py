"""Reports as files: CSV and Excel (spec section 9, export)."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook


def volume_rows(report: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(dimension, value, tickets) for each count of a volume report."""
    rows = []
    for dimension in ("status", "priority", "category"):
        for value, count in sorted(report[f"by_{dimension}"].items()):
            rows.append((dimension, value, count))
    rows.append(("total", "all", report["total"]))
    rows.append(("sla_breached", "yes", report["sla_breached"]))
    return rows


def to_csv(rows: list[tuple[str, str, int]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["dimension", "value", "tickets"])
    # Values are our own enums, but a spreadsheet must never read one as a formula.
    writer.writerows((d, v.lstrip("=+-@"), n) for d, v, n in rows)
    return out.getvalue().encode("utf-8")


def to_xlsx(rows: list[tuple[str, str, int]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Ticket volume"
    sheet.append(["dimension", "value", "tickets"])
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
