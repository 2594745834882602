"""Server-rendered SVG charts (line and stacked bars) that need no JavaScript.

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described by its ``<desc>``,
drawn in colours that reach 3:1 against white (WCAG 1.4.11) and never the only carrier of
meaning: every series is named in a text legend, lines also differ by dash pattern and marker,
and the page shows the chart's data table beside it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from hub import exports

# Dark enough for 3:1 on white (and text at 4.5:1), distinguishable from each other.
PALETTE = ("#1f4e79", "#a04000", "#2e6b30", "#6a1b9a", "#b71c1c", "#37474f", "#00695c", "#8d6e00")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "4 4", "1 2", "10 4", "3 6")
# The plot area; the legend's rows are added below it. Small enough that its text stays readable
# when a card is 320 px wide.
WIDTH, HEIGHT = 420, 230
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 30
LEGEND_ROW = 20
_ids = itertools.count(1)


@dataclass
class Chart:
    key: str
    title: str
    desc: str
    svg: Markup
    table: exports.Table


def _num(v: Any) -> float:
    return float(v) if isinstance(v, int | float) else 0.0


def _scale(top: float) -> tuple[float, list[float]]:
    """A round maximum for the axis and its ticks."""
    if top <= 0:
        return 1.0, [0.0, 1.0]
    step = 10 ** len(str(int(top))) / 10
    for mult in (1, 2, 5, 10):
        if top / (step * mult) <= 5:
            step *= mult
            break
    ticks = [step * i for i in range(int(top // step) + 2)]
    return ticks[-1], ticks


def _frame(
    uid: str, title: str, desc: str, top: float, ticks: list[float], legend_rows: int
) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    height = HEIGHT + LEGEND_ROW * legend_rows + 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart-svg" '
        f'viewBox="0 0 {WIDTH} {height}" aria-labelledby="{uid}-t {uid}-d">',
        f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>',
    ]
    for t in ticks:
        y = TOP + plot_h - plot_h * t / top
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#767676" '
            f'stroke-width="0.5"/><text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="13" fill="#333">{t:g}</text>'
        )
    return out


def _labels(labels: list[str], x_of: Any) -> list[str]:
    every = max(1, -(-len(labels) // 5))
    return [
        f'<text x="{x_of(i):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" font-size="12" '
        f'fill="#333">{escape(label)}</text>'
        for i, label in enumerate(labels)
        if i % every == 0
    ]


def _legend(names: list[str], lines: bool) -> tuple[list[str], int]:
    """The series' names with their swatches, wrapped into rows under the plot."""
    out: list[str] = []
    x, row = LEFT, 0
    for i, name in enumerate(names):
        width = 30 + 8 * len(name)
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, row = LEFT, row + 1
        y = HEIGHT + 10 + LEGEND_ROW * row
        colour, dash = PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)]
        if lines:
            out.append(
                f'<line x1="{x}" x2="{x + 20}" y1="{y - 5}" y2="{y - 5}" stroke="{colour}" '
                f'stroke-width="3" stroke-dasharray="{dash}"/>'
            )
        else:
            out.append(f'<rect x="{x}" y="{y - 12}" width="13" height="13" fill="{colour}"/>')
        out.append(f'<text x="{x + 24}" y="{y}" font-size="13" fill="#222">{escape(name)}</text>')
        x += width
    return out, row + 1


def bars(title: str, desc: str, labels: list[str], series: list[tuple[str, list[Any]]]) -> Markup:
    """Stacked bars: one bar per label, one segment per series."""
    uid = f"c{next(_ids)}"
    totals = [sum(_num(s[1][i]) for s in series) for i in range(len(labels))]
    top, ticks = _scale(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    bar_w = max(slot * 0.7, 1)
    legend, rows = _legend([name for name, _ in series], lines=False)
    out = _frame(uid, title, desc, top, ticks, rows)
    for i in range(len(labels)):
        base = 0.0
        for j, (_name, values) in enumerate(series):
            v = _num(values[i])
            if v <= 0:
                continue
            h = plot_h * v / top
            y = TOP + plot_h - plot_h * base / top - h
            out.append(
                f'<rect x="{LEFT + slot * i + (slot - bar_w) / 2:.1f}" y="{y:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" fill="{PALETTE[j % len(PALETTE)]}" '
                f'stroke="#fff" stroke-width="0.5"/>'
            )
            base += v
    out += _labels(labels, lambda i: LEFT + slot * i + slot / 2)
    out += legend
    out.append("</svg>")
    return Markup("".join(out))


def lines(title: str, desc: str, labels: list[str], series: list[tuple[str, list[Any]]]) -> Markup:
    """Lines over the labels (periods), one per series, each with its own dash and marker."""
    uid = f"c{next(_ids)}"
    top, ticks = _scale(max((_num(v) for _, vs in series for v in vs), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)
    legend, rows = _legend([name for name, _ in series], lines=True)
    out = _frame(uid, title, desc, top, ticks, rows)
    for j, (_name, values) in enumerate(series):
        colour, dash = PALETTE[j % len(PALETTE)], DASHES[j % len(DASHES)]
        points = [
            (LEFT + step * i, TOP + plot_h - plot_h * _num(v) / top) for i, v in enumerate(values)
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5" '
            f'stroke-dasharray="{dash}"/>'
        )
        if len(points) <= 40:
            for x, y in points:
                out.append(
                    f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="{colour}" '
                    f'transform="rotate({45 * (j % 2)} {x:.1f} {y:.1f})"/>'
                )
    out += _labels(labels, lambda i: LEFT + step * i)
    out += legend
    out.append("</svg>")
    return Markup("".join(out))


def _columns(table: exports.Table, names: list[str]) -> list[tuple[str, list[Any]]]:
    rows = [list(r) for r in table.rows]
    table.rows = rows
    idx = {h: i for i, h in enumerate(table.headers)}
    return [(n, [r[idx[n]] for r in rows]) for n in names if n in idx]


def report_charts(data: dict[str, Any]) -> list[Chart]:
    """The charts of a standard report, each with the table that carries its figures."""
    tables = exports.report_tables(data)
    name = data["report"]
    out: list[Chart] = []
    if name == "volume":
        t = tables[0]
        labels = [r[0] for r in _rows(t)]
        out.append(
            Chart(
                "volume",
                t.title,
                "Tickets created, resolved and the backlog at the "
                "end of each period; the table holds every figure.",
                lines(
                    t.title,
                    "Created, resolved and backlog per period",
                    labels,
                    _columns(t, ["created", "resolved", "reopened", "backlog"]),
                ),
                t,
            )
        )
    elif name in ("first_response", "resolution"):
        t = tables[1]
        rows = [r for r in _rows(t) if r[1] == "business"]
        labels = list(t.headers[2:])
        series = [(f"{r[0]} (business)", list(r[2:])) for r in rows]
        out.append(
            Chart(
                name,
                t.title,
                "Tickets per duration bucket, in business time.",
                bars(t.title, "Tickets per duration bucket", labels, series),
                t,
            )
        )
        out.append(Chart(f"{name}-stats", tables[0].title, "", Markup(""), tables[0]))
    elif name == "trends":
        for t in tables:
            labels = [r[0] for r in _rows(t)]
            out.append(
                Chart(
                    t.title.lower().replace(" ", "-"),
                    t.title,
                    "Tickets created per period, stacked by value.",
                    bars(
                        t.title,
                        "Stacked tickets per period",
                        labels,
                        _columns(t, list(t.headers[1:])),
                    ),
                    t,
                )
            )
    elif name == "satisfaction":
        t = tables[1]
        out.append(
            Chart(
                "ratings",
                t.title,
                "Tickets per rating from 1 to 5.",
                bars(
                    t.title,
                    "Tickets per rating",
                    [str(r[0]) for r in _rows(t)],
                    _columns(t, ["tickets"]),
                ),
                t,
            )
        )
        trend = tables[4]
        out.append(
            Chart(
                "csat-trend",
                trend.title,
                "Average rating per period.",
                lines(
                    trend.title,
                    "Average rating per period",
                    [str(r[0]) for r in _rows(trend)],
                    _columns(trend, ["average"]),
                ),
                trend,
            )
        )
        out += [
            Chart(f"t{i}", t.title, "", Markup(""), t)
            for i, t in enumerate(tables)
            if i not in (1, 4)
        ]
    elif name == "agents":
        t = tables[0]
        labels = [str(r[1]) for r in _rows(t)]
        out.append(
            Chart(
                "agents",
                t.title,
                "Tickets resolved per agent.",
                bars(t.title, "Resolved tickets per agent", labels, _columns(t, ["resolved"])),
                t,
            )
        )
    else:
        out += [Chart(f"t{i}", t.title, "", Markup(""), t) for i, t in enumerate(tables)]
    return out


def _rows(table: exports.Table) -> list[list[Any]]:
    rows = [list(r) for r in table.rows]
    table.rows = rows
    return rows
