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


def table_pdf(title: str, filters: dict[str, Any], table: exports.Table) -> bytes:
    """One table (a ticket list) as PDF, with its filter summary and page numbers."""
    from markupsafe import Markup
    from weasyprint import HTML

    data = {"title": title, "filters": filters}
    section = {"data": data, "charts": [charts.Chart("t", title, "", Markup(""), table)]}
    html = templates.env.get_template("reports/print.html").render(title=title, sections=[section])
    return HTML(string=html).write_pdf(pdf_variant="pdf/ua-1") or b""
