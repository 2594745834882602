"""Reports and ticket lists as files: CSV and Excel (write-only openpyxl), streamed in chunks.

A report becomes a filter summary and one or more tables (``report_tables``); a ticket list is
a header and an iterator of rows. Neither is held in memory whole: CSV is written a chunk of
rows at a time, the workbook is written row by row to a temporary file that is then streamed.
Text that a spreadsheet would read as a formula gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
CHUNK_ROWS = 2000
FILE_CHUNK = 256 * 1024


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: Iterable[Iterable[Any]]


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 2)
    return value


def _fmt(value: Any) -> Any:
    return "" if value is None else value


# ---------------------------------------------------------------- report -> tables


def _group(row: dict[str, Any]) -> Any:
    """A row's group as a reader names it: the person's, group's or organisation's name where
    the report carries one (``label``), else its key."""
    return row.get("label", row["group"])


def _stat_cols(stats: dict[str, Any] | None) -> list[Any]:
    if not stats:
        return [0, None, None, None]
    return [stats["count"], stats["mean"], stats["median"], stats["p90"]]


def report_tables(data: dict[str, Any]) -> list[Table]:
    """The tables of a standard report, as the exports, the PDF and the console show them."""
    name = data["report"]
    if name == "volume":
        keys = ["created", "resolved", "closed", "reopened", "backlog"]
        return [
            Table(
                f"{data['title']} by {data['interval']}",
                ["period", "last day", *keys],
                [[r["period"], r["last_day"], *(r[k] for k in keys)] for r in data["series"]],
            )
        ]
    if name in ("first_response", "resolution"):
        from core.reports.query import BUCKETS

        labels = [label for label, _, _ in BUCKETS]
        stats = [
            Table(
                f"{data['title']} (minutes)",
                ["group", "time", "tickets", "mean", "median", "90th percentile"],
                [
                    [_group(r), kind, *_stat_cols(r[kind])]
                    for r in data["rows"]
                    for kind in ("calendar", "business")
                ],
            ),
            Table(
                f"{data['title']}: distribution",
                ["group", "time", *labels],
                [
                    [
                        _group(r),
                        kind,
                        *((r[kind] or {}).get("buckets", {}).get(b, 0) for b in labels),
                    ]
                    for r in data["rows"]
                    for kind in ("calendar", "business")
                ],
            ),
        ]
        return stats
    if name == "sla":
        return [
            Table(
                data["title"],
                [
                    "group",
                    "responded",
                    "response met",
                    "response compliance",
                    "resolved",
                    "resolution met",
                    "resolution compliance",
                ],
                [
                    [
                        _group(r),
                        r["responded"],
                        r["response_met"],
                        r["response_compliance"],
                        r["resolved"],
                        r["resolution_met"],
                        r["resolution_compliance"],
                    ]
                    for r in data["rows"]
                ],
            ),
            Table(
                "Breaches by policy",
                ["policy", "response breaches", "resolution breaches"],
                [
                    [
                        r["policy_id"] if r["policy_id"] is not None else "default",
                        r["response_breaches"],
                        r["resolution_breaches"],
                    ]
                    for r in data["breaches_by_policy"]
                ],
            ),
        ]
    if name == "agents":
        cols = [
            "agent",
            "name",
            "assigned",
            "replied",
            "resolved",
            "median_first_response",
            "median_first_response_business",
            "median_resolution",
            "median_resolution_business",
            "rating_average",
            "rating_count",
            "reopen_rate",
        ]
        return [
            Table(
                data["title"],
                [c.replace("_", " ") for c in cols],
                [[r[c] for c in cols] for r in data["rows"]],
            )
        ]
    if name == "trends":
        out = []
        for dim in ("category", "priority", "channel"):
            part = data[dim]
            out.append(
                Table(
                    f"Tickets by {dim} per {data['interval']}",
                    ["period", *part["values"]],
                    [[s["period"], *(s[v] for v in part["values"])] for s in part["series"]],
                )
            )
        return out
    if name == "satisfaction":
        groups = [
            Table(
                "Satisfaction",
                ["tickets rated", "average", "knowledge-base deflections"],
                [[data["count"], data["average"], data["kb_deflections"]]],
            ),
            Table("Ratings", ["rating", "tickets"], list(data["distribution"].items())),
        ]
        for key, title in (
            ("by_agent", "agent"),
            ("by_category", "category"),
            ("trend", data["interval"]),
        ):
            groups.append(
                Table(
                    f"Satisfaction by {title}",
                    [title, "average", "rated"],
                    [[r["group"], r["average"], r["count"]] for r in data[key]],
                )
            )
        groups.append(
            Table(
                "Feedback",
                ["ticket", "rating", "feedback"],
                [[r["ticket_id"], r["rating"], r["feedback"]] for r in data["feedback"]],
            )
        )
        return groups
    raise ValueError(f"no tables for report {name!r}")


def summary_rows(title: str, filters: dict[str, Any]) -> list[list[str]]:
    """The report's title and filters, written first in every export."""
    return [[title], *[[f"filter {k}", str(v)] for k, v in filters.items()]]


# ---------------------------------------------------------------- CSV


def csv_stream(summary: list[list[str]], tables: list[Table]) -> Iterator[bytes]:
    """CSV bytes, a chunk of rows at a time: summary lines, then each table after a blank."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    for line in summary:
        writer.writerow([_safe(v) for v in line])
    for table in tables:
        if summary or len(tables) > 1:
            writer.writerow([])
            writer.writerow([_safe(table.title)])
        writer.writerow(table.headers)
        n = 0
        for row in table.rows:
            writer.writerow([_fmt(_safe(v)) for v in row])
            n += 1
            if n % CHUNK_ROWS == 0:
                yield buf.getvalue().encode("utf-8")
                buf.seek(0)
                buf.truncate()
    yield buf.getvalue().encode("utf-8")


# ---------------------------------------------------------------- Excel


def _sheet_title(title: str, used: set[str]) -> str:
    clean = "".join(c for c in title if c not in "[]:*?/\\")[:28] or "Sheet"
    name, n = clean, 2
    while name in used:
        name, n = f"{clean[:25]} {n}", n + 1
    used.add(name)
    return name


def _cell(value: Any) -> Any:
    """A spreadsheet-safe value without the control characters a workbook cannot hold (a
    custom field's or a filter's text may carry them)."""
    value = _safe(value)
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def xlsx_stream(summary: list[list[str]], tables: list[Table]) -> Iterator[bytes]:
    """An Excel workbook (a Filters sheet, then a sheet per table), written row by row in
    openpyxl's write-only mode to a temporary file, then read back in chunks."""
    book = Workbook(write_only=True)
    used: set[str] = set()
    if summary:
        sheet = book.create_sheet(_sheet_title("Filters", used))
        for line in summary:
            sheet.append([_cell(v) for v in line])
    for table in tables:
        sheet = book.create_sheet(_sheet_title(table.title, used))
        sheet.append(table.headers)
        for row in table.rows:
            sheet.append([_cell(v) for v in row])
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        book.save(path)
        with open(path, "rb") as fh:
            while chunk := fh.read(FILE_CHUNK):
                yield chunk
    finally:
        os.unlink(path)


def stream(fmt: str, summary: list[list[str]], tables: list[Table]) -> Iterator[bytes]:
    if fmt == "csv":
        return csv_stream(summary, tables)
    return xlsx_stream(summary, tables)


# The volume export of the original /reports/export/ endpoint (kept for its clients).


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
    return b"".join(
        csv_stream([], [Table("Ticket volume", ["dimension", "value", "tickets"], rows)])
    )


def to_xlsx(rows: list[tuple[str, str, int]]) -> bytes:
    return b"".join(
        xlsx_stream([], [Table("Ticket volume", ["dimension", "value", "tickets"], rows)])
    )
