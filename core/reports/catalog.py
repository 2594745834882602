"""The standard reports by name, as the API, the console and the exports call them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from core.permissions import Actor
from core.reports.agents import agents
from core.reports.durations import durations, sla
from core.reports.satisfaction import satisfaction
from core.reports.trends import trends
from core.reports.volume import volume

Report = Callable[[Session, Actor, Mapping[str, str]], dict[str, Any]]

REPORTS: dict[str, tuple[str, Report]] = {
    "volume": ("Ticket volume and backlog", volume),
    "first-response": ("First response time", partial(durations, measure="first_response")),
    "resolution": ("Resolution time", partial(durations, measure="resolution")),
    "sla": ("SLA compliance", sla),
    "agents": ("Agent performance", agents),
    "trends": ("Category, priority and channel trends", trends),
    "satisfaction": ("Satisfaction", satisfaction),
}


def run(session: Session, actor: Actor, name: str, params: Mapping[str, str]) -> dict[str, Any]:
    """Run the named report with the query's parameters (checked by the report)."""
    title, report = REPORTS[name]
    return {"title": title, **report(session, actor, params)}
