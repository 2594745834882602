"""Agent performance over tickets created in the range, per assigned agent: assigned, resolved,
replies written, median first response and resolution (calendar and business minutes), rating
average and count, and reopen rate (tickets reopened at least once, of those ever finished)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.models import User
from core.permissions import Actor
from core.reports import filters as report_filters
from core.reports import summaries
from core.reports.models import ReportDaily, ReportFact, ReportMove
from core.reports.query import percentiles, ratio

MEDIANS = {
    "first_response": ReportFact.first_response_minutes,
    "first_response_business": ReportFact.first_response_business,
    "resolution": ReportFact.resolution_minutes,
    "resolution_business": ReportFact.resolution_business,
}


def _from_facts(session: Session, conds: list[Any]) -> dict[int, dict[str, Any]]:
    """With filters: a GROUP BY over the facts. PostgreSQL: the medians as ordered-set
    aggregates of the same scan (nearest rank, as ``percentiles`` computes them with window
    functions elsewhere)."""
    finished = ReportFact.resolution_minutes.is_not(None) | (ReportFact.reopen_count > 0)
    pg = session.get_bind().dialect.name == "postgresql"
    extra = [func.percentile_disc(0.5).within_group(c) for c in MEDIANS.values()] if pg else []
    rows: dict[int, dict[str, Any]] = {}
    for agent, assigned, resolved, ever_done, reopened, avg, rated, *found in session.execute(
        select(
            ReportFact.agent,
            func.count(),
            func.count(ReportFact.resolution_minutes),
            func.sum(case((finished, 1), else_=0)),
            func.sum(case((ReportFact.reopen_count > 0, 1), else_=0)),
            func.avg(ReportFact.rating),
            func.count(ReportFact.rating),
            *extra,
        )
        .where(*conds)
        .group_by(ReportFact.agent)
    ):
        rows[agent] = {
            "agent": agent,
            "assigned": int(assigned),
            "resolved": int(resolved),
            "replied": 0,
            "reopened": int(reopened or 0),
            "reopen_rate": ratio(int(reopened or 0), int(ever_done or 0)),
            "rating_average": float(avg) if avg is not None else None,
            "rating_count": int(rated),
        }
        for name, value in zip(MEDIANS, found, strict=False):
            rows[agent][f"median_{name}"] = None if value is None else float(value)
    if not pg:
        for name, column in MEDIANS.items():
            for k, (p50, _p90) in percentiles(session, conds, ReportFact.agent, column).items():
                rows[int(k)][f"median_{name}"] = p50
    return rows


def agents(session: Session, actor: Actor, params: Mapping[str, str]) -> dict[str, Any]:
    f = report_filters.parse(session, actor, params)
    if f.values:
        conds = f.conditions(ReportFact.created_day) + [ReportFact.agent.is_not(None)]
        rows = _from_facts(session, conds)
    else:
        # Without filters: the per-day sums and bins (``summaries``), the medians exact.
        rows = summaries.agent_stats(session, f.tenant_id, f.start, f.end)
    if f.values:
        # Filters apply to the replied tickets' fields: the moves joined to their facts.
        replies = (
            select(ReportMove.actor_id, func.count())
            .where(
                ReportMove.tenant_id == f.tenant_id,
                ReportMove.kind == "reply",
                ReportMove.day >= f.start,
                ReportMove.day < f.end,
            )
            .join(ReportFact, ReportFact.ticket_id == ReportMove.ticket_id)
            .where(*f.value_conditions())
            .group_by(ReportMove.actor_id)
        )
    else:
        # Without filters: the per-day reply sums of each agent.
        replies = (
            select(ReportDaily.actor_id, func.sum(ReportDaily.count))
            .where(
                ReportDaily.tenant_id == f.tenant_id,
                ReportDaily.kind == "reply",
                ReportDaily.day >= f.start,
                ReportDaily.day < f.end,
            )
            .group_by(ReportDaily.actor_id)
        )
    for user_id, count in session.execute(replies):
        if user_id is None:
            continue
        row = rows.setdefault(
            user_id,
            {
                "agent": user_id,
                "assigned": 0,
                "resolved": 0,
                "reopened": 0,
                "reopen_rate": None,
                "rating_average": None,
                "rating_count": 0,
            },
        )
        row["replied"] = int(count)
    names: dict[int, str] = (
        dict(
            session.execute(
                select(User.id, func.coalesce(func.nullif(User.full_name, ""), User.email)).where(
                    User.id.in_(list(rows))
                )
            ).all()
        )
        if rows
        else {}
    )
    out = []
    for agent_id in sorted(rows):
        row = rows[agent_id]
        for name in (
            "first_response",
            "first_response_business",
            "resolution",
            "resolution_business",
        ):
            row.setdefault(f"median_{name}", None)
        row["name"] = names.get(agent_id, f"user {agent_id}")
        out.append(row)
    return {"report": "agents", "filters": f.summary(), "unit": "minutes", "rows": out}
