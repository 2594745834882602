"""Reports as PDF: the print template (title, filter summary, charts, tables, page numbers)
rendered by WeasyPrint, which writes tagged PDF."""

from __future__ import annotations

from typing import Any

from hub import exports
from hub.web import charts
from hub.web.render import templates


def report_pdf(reports: list[dict[str, Any]], *, title: str | None = None) -> bytes:
    """One PDF of one or more standard reports."""
    from weasyprint import HTML

    sections = [
        {"data": data, "charts": charts.report_charts(data), "tables": exports.report_tables(data)}
        for data in reports
    ]
    html = templates.env.get_template("reports/print.html").render(
        title=title or reports[0]["title"], sections=sections
    )
    return HTML(string=html).write_pdf(pdf_variant="pdf/ua-1") or b""
