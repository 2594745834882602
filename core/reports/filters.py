"""What a report may be filtered and grouped by, checked strictly: an unknown name is a 422.

Dates are days of the tenant's time zone: ``start`` is the first day counted, ``end`` the first
day not counted (both ``YYYY-MM-DD``); without them a report covers the last 30 days. Every other
filter applies to the ticket's current fields and takes one value or several separated by
commas (``priority=High,Critical``). ``agent=none`` selects unassigned tickets, and
``agent_group=none`` the tickets of no agent group (``group`` is what a report groups by).
``tag`` selects tickets that carry any of the tags named (``tag=vip,outage``), by a semi-join
on the ticket's tags (``ix_support_ticket_tags_tag_ticket``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, false, or_
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Forbidden, Invalid
from core.lifecycle import CATEGORIES, PRIORITIES, STATUSES
from core.permissions import Actor
from core.reports.models import ReportFact
from core.reports.rollups import tenant_zone

FILTERS = (
    "start",
    "end",
    "requester",
    "agent",
    "agent_group",
    "organisation",
    "category",
    "priority",
    "channel",
    "status",
    "tag",
)
DIMENSIONS = (
    "category",
    "priority",
    "channel",
    "status",
    "agent",
    "agent_group",
    "requester",
    "organisation",
)
INTERVALS = ("day", "week", "month")
GROUPS = INTERVALS + DIMENSIONS
# Named parameters that no report takes: asked for, they are refused by name with the reason.
NOT_AVAILABLE: dict[str, str] = {}
DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366 + 1
_CHANNEL = re.compile(r"^[a-z0-9_-]{1,20}$")


@dataclass(frozen=True)
class Filters:
    """A checked report query: the tenant, its zone's day range and the value filters."""

    tenant_id: uuid.UUID
    start: date
    end: date
    values: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    def conditions(self, day_column: Any) -> list[ColumnElement[bool]]:
        """WHERE terms over ``report_ticket_facts`` for this query, by ``day_column``."""
        conds: list[ColumnElement[bool]] = [
            ReportFact.tenant_id == self.tenant_id,
            day_column >= self.start,
            day_column < self.end,
        ]
        return conds + self.value_conditions()

    def value_conditions(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        for name, wanted in self.values.items():
            if name == "tag":
                conds.append(ReportFact.ticket_id.in_(self._tagged(wanted)))
                continue
            if name == "organisation":
                conds.append(self._of_organisations(wanted))
                continue
            column = getattr(ReportFact, name)
            ids = [v for v in wanted if v is not None]
            if None in wanted:
                conds.append(column.is_(None) | column.in_(ids) if ids else column.is_(None))
            else:
                conds.append(column.in_(ids) if ids else false())
        return conds

    def _tagged(self, names: tuple[Any, ...]) -> Any:
        from sqlalchemy import select

        from core.models import Tag, TicketTag

        return (
            select(TicketTag.ticket_id)
            .join(Tag, Tag.id == TicketTag.tag_id)
            .where(Tag.tenant_id == self.tenant_id, Tag.name.in_(names))
        )

    def _of_organisations(self, wanted: tuple[Any, ...]) -> ColumnElement[bool]:
        """The requester is (now) a person of one of these organisations; ``None``: of none."""
        from sqlalchemy import select

        from core.models import OrganisationPerson

        def people(ids: list[int] | None) -> Any:
            stmt = select(OrganisationPerson.user_id).where(
                OrganisationPerson.tenant_id == self.tenant_id
            )
            if ids is not None:
                stmt = stmt.where(OrganisationPerson.organisation_id.in_(ids))
            return stmt

        ids = [v for v in wanted if v is not None]
        terms: list[ColumnElement[bool]] = []
        if ids:
            terms.append(ReportFact.requester.in_(people(ids)))
        if None in wanted:
            terms.append(ReportFact.requester.not_in(people(None)))
        return or_(*terms) if len(terms) > 1 else terms[0]

    def summary(self) -> dict[str, Any]:
        """The filters as shown on a report and in its exports."""
        out: dict[str, Any] = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        for name, wanted in self.values.items():
            out[name] = ",".join("none" if v is None else str(v) for v in wanted)
        return out


def _day(name: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(f"{name} must be a date, YYYY-MM-DD", field=name) from exc


def _values(name: str, text: str) -> tuple[Any, ...]:
    parts = [p.strip() for p in text.split(",")]
    if not parts or any(not p for p in parts) or len(parts) > 50:
        raise Invalid(f"{name} takes one to 50 comma-separated values", field=name)
    out: list[Any] = []
    for part in parts:
        if name in ("agent", "requester", "agent_group", "organisation"):
            if name != "requester" and part == "none":
                out.append(None)
            elif part.isdigit() and len(part) < 10:
                out.append(int(part))
            elif name == "agent_group":
                raise Invalid("agent_group takes agent group ids, or none", field=name)
            elif name == "organisation":
                raise Invalid("organisation takes organisation ids, or none", field=name)
            else:
                raise Invalid(f"{name} takes user ids (or none for agent)", field=name)
        elif name == "tag":
            from core.tags.service import normalise

            out.append(normalise(part, "tag"))
        elif name == "channel":
            if not _CHANNEL.match(part):
                raise Invalid("channel is a channel name such as email or slack", field=name)
            out.append(part)
        else:
            choices = {"category": CATEGORIES, "priority": PRIORITIES, "status": STATUSES}[name]
            if part not in choices:
                raise Invalid(f"{name} must be one of: {', '.join(choices)}", field=name)
            out.append(part)
    return tuple(out)


def check_names(params: Mapping[str, str], extra: tuple[str, ...] = ()) -> None:
    """Refuse any query parameter that is not a filter or one of ``extra``."""
    allowed = FILTERS + extra
    for name in params:
        if name in allowed:
            continue
        if name in NOT_AVAILABLE:
            raise Invalid(
                f"{name}: {NOT_AVAILABLE[name]}; valid parameters: {', '.join(allowed)}",
                field=name,
            )
        raise Invalid(
            f"unknown parameter {name!r}; valid parameters: {', '.join(allowed)}", field=name
        )


def parse(
    session: Session, actor: Actor, params: Mapping[str, str], extra: tuple[str, ...] = ()
) -> Filters:
    """Check the reader and the query; ``extra`` names the report's own parameters."""
    if not actor.reads_all_tickets:
        raise Forbidden("reports are for agents, admins and managers")
    check_names(params, extra)
    today = now().astimezone(tenant_zone(session, actor.tenant_id)).date()
    end = _day("end", params["end"]) if params.get("end") else today + timedelta(days=1)
    start = (
        _day("start", params["start"])
        if params.get("start")
        else end - timedelta(days=DEFAULT_DAYS)
    )
    if start >= end:
        raise Invalid("start must be before end", field="start")
    if (end - start).days > MAX_DAYS:
        raise Invalid(f"a report covers at most {MAX_DAYS} days", field="start")
    values = {
        name: _values(name, params[name])
        for name in FILTERS[2:]
        if params.get(name) not in (None, "")
    }
    return Filters(actor.tenant_id, start, end, values)


def group_of(params: Mapping[str, str], name: str = "group", *, default: str | None) -> str | None:
    """A ``group`` (or ``interval``) parameter, checked against what reports group by."""
    value = params.get(name) or default
    choices = INTERVALS if name == "interval" else GROUPS
    if value is not None and value not in choices:
        raise Invalid(f"{name} must be one of: {', '.join(choices)}", field=name)
    return value
