"""SLA countdowns: how much of a ticket's current target is left, the share of it used, and
whether it is on track, at risk, breached or paused.

``countdown`` is a pure function of the clock's reading and the ticket's SLA figures; the
console shows its text ("2 h 10 min left", "breached 35 min ago", "paused, 3 h left"), its
state as a colour and a word, and ``used`` as a progress bar. ``countdowns`` loads what a page
of tickets needs in at most two queries (the clocks of its paused tickets, the tenant's at-risk
share, cached), whatever the number of rows.

A ticket is *at risk* once less than the tenant's at-risk share of its target is left
(``Tenant.settings["sla_at_risk_percent"]``, 25 by default); ``at_risk_clause`` is the same
rule as SQL, for the queue's "At risk" filter.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from core.cache import TenantCache
from core.clock import now
from core.errors import Invalid, NotFound
from core.lifecycle import DONE_STATUSES, PRIORITIES
from core.models import SlaState, Tenant, Ticket
from core.permissions import Actor, require_admin
from core.services import events
from core.sla.calendar import ALWAYS_OPEN, BusinessCalendar
from core.sla.clock import (
    DEFAULT_TARGETS,
    PAUSED_STATUS,
    RESOLUTION,
    RESPONSE,
    elapsed_minutes,
    specificity,
    targets_for,
    tenant_policies,
)

ON_TRACK, AT_RISK, BREACHED, PAUSED = "on_track", "at_risk", "breached", "paused"
LABELS = {ON_TRACK: "On track", AT_RISK: "At risk", BREACHED: "Breached", PAUSED: "Paused"}
AT_RISK_SETTING = "sla_at_risk_percent"
DEFAULT_AT_RISK_PERCENT = 25
AT_RISK_CHANGED = "SLA At-Risk Changed"


@dataclass(frozen=True)
class Countdown:
    """One ticket's current SLA target as the console shows it."""

    state: str
    target: str
    target_minutes: float
    left_minutes: float  # business minutes left; negative once due (minutes since then)
    used: float  # share of the target used, 0 to 1
    due_at: datetime | None
    business_hours: bool
    at: datetime  # the clock's reading the countdown was computed at

    @property
    def label(self) -> str:
        """The state in a word: "On track", "At risk", "Breached", "Paused"."""
        return LABELS[self.state]

    @property
    def percent_used(self) -> int:
        """``used`` as a whole percentage (the progress bar's value)."""
        return round(self.used * 100)

    @property
    def text(self) -> str:
        """ "2 h 10 min left", "breached 35 min ago", "paused, 3 h left"."""
        if self.state == BREACHED:
            return f"breached {duration(-self.left_minutes)} ago"
        if self.state == PAUSED:
            if self.left_minutes <= 0:
                return "paused, target passed"
            return f"paused, {duration(self.left_minutes)} left"
        return f"{duration(self.left_minutes)} left"

    @property
    def target_name(self) -> str:
        return "first response" if self.target == RESPONSE else "resolution"


def duration(minutes: float) -> str:
    """A span in words: "less than 1 min", "35 min", "2 h 10 min", "3 d 4 h"."""
    total = int(max(minutes, 0))
    if total < 1:
        return "less than 1 min"
    days, rest = divmod(total, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def countdown(
    at: datetime,
    *,
    target: str,
    target_minutes: float,
    due_at: datetime | None = None,
    paused_elapsed_minutes: float | None = None,
    at_risk_percent: int = DEFAULT_AT_RISK_PERCENT,
    calendar: BusinessCalendar = ALWAYS_OPEN,
) -> Countdown:
    """The countdown of a running target (``due_at``) or of a paused one
    (``paused_elapsed_minutes``: business minutes the cycle ran before the pause)."""
    if target_minutes <= 0:
        raise ValueError("target_minutes must be positive")
    if paused_elapsed_minutes is not None:
        left = target_minutes - paused_elapsed_minutes
        state = PAUSED
    elif due_at is not None:
        if due_at > at:
            left = calendar.minutes_between(at, due_at)
        else:
            left = -(at - due_at).total_seconds() / 60
        state = BREACHED if due_at <= at else ON_TRACK
        if state == ON_TRACK and left < target_minutes * at_risk_percent / 100:
            state = AT_RISK
    else:
        raise ValueError("a countdown needs due_at or paused_elapsed_minutes")
    used = min(max(1 - left / target_minutes, 0.0), 1.0)
    return Countdown(
        state,
        target,
        target_minutes,
        left,
        used,
        due_at,
        business_hours=not calendar.is_24x7,
        at=at,
    )


# ------------------------------------------------------------------ the tenant's at-risk share

_risk: TenantCache[int] = TenantCache()


@sa_event.listens_for(Tenant, "after_update")
def _drop_risk(_mapper: Any, _conn: Any, target: Tenant) -> None:
    _risk.invalidate(target.id)


def _stored_percent(settings: dict[str, Any] | None) -> int:
    value = (settings or {}).get(AT_RISK_SETTING)
    return value if isinstance(value, int) and 1 <= value <= 99 else DEFAULT_AT_RISK_PERCENT


def at_risk_percent(session: Session, tenant_id: uuid.UUID) -> int:
    """The share of a target left under which the tenant's tickets are at risk (cached)."""
    return _risk.get(
        tenant_id,
        "percent",
        lambda: _stored_percent(
            session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id))
        ),
    )


def set_at_risk_percent(session: Session, actor: Actor, value: int) -> int:
    """Change the tenant's at-risk share (1 to 99 percent of a target left); audited."""
    require_admin(actor, "change the SLA at-risk share")
    if not isinstance(value, int) or not 1 <= value <= 99:
        raise Invalid("the at-risk share must be a whole number from 1 to 99", field="percent")
    tenant = session.get(Tenant, actor.tenant_id)
    if tenant is None:
        raise NotFound("no such tenant")
    old = _stored_percent(tenant.settings)
    if old != value:
        tenant.settings = {**(tenant.settings or {}), AT_RISK_SETTING: value}
        events.audit(
            session, actor, action=AT_RISK_CHANGED, ticket_id=None, old=str(old), new=str(value)
        )
    return value


# ------------------------------------------------------------------ a page of tickets


def countdowns(
    session: Session, tenant_id: uuid.UUID, tickets: Iterable[Ticket], *, at: datetime | None = None
) -> dict[int, Countdown]:
    """The countdown of each ticket with a target running or paused (none for finished ones)."""
    at = at or now()
    rows = [t for t in tickets if t.tenant_id == tenant_id and t.status not in DONE_STATUSES]
    if not rows:
        return {}
    percent = at_risk_percent(session, tenant_id)
    paused_ids = [t.id for t in rows if t.status == PAUSED_STATUS and t.sla_due_at is None]
    states: dict[int, SlaState] = {}
    if paused_ids:
        states = {
            s.ticket_id: s
            for s in session.scalars(
                select(SlaState).where(
                    SlaState.tenant_id == tenant_id, SlaState.ticket_id.in_(paused_ids)
                )
            )
        }
    found: dict[int, Countdown] = {}
    for ticket in rows:
        targets = targets_for(session, ticket)
        answered = ticket.first_response_at is not None
        target = RESOLUTION if answered else RESPONSE
        minutes = targets.resolution_minutes if answered else targets.response_minutes
        state = states.get(ticket.id)
        if ticket.sla_due_at is not None:
            found[ticket.id] = countdown(
                at,
                target=target,
                target_minutes=minutes,
                due_at=ticket.sla_due_at,
                at_risk_percent=percent,
                calendar=targets.calendar,
            )
        elif state is not None and state.paused_since is not None:
            found[ticket.id] = countdown(
                at,
                target=target,
                target_minutes=minutes,
                paused_elapsed_minutes=elapsed_minutes(state, targets.calendar, at),
                at_risk_percent=percent,
                calendar=targets.calendar,
            )
    return found


@dataclass(frozen=True)
class _Scope:
    """The tickets of one priority a policy (or the default targets) covers, before the more
    specific policies take theirs."""

    group_id: int | None
    category: str | None
    response_minutes: int
    resolution_minutes: int
    calendar: BusinessCalendar

    @property
    def rank(self) -> int:
        return specificity(self, self.group_id, self.category) or 0

    def overlaps(self, other: _Scope) -> bool:
        """Some ticket could be covered by both."""
        return not (
            (
                self.group_id is not None
                and other.group_id is not None
                and self.group_id != other.group_id
            )
            or (
                self.category is not None
                and other.category is not None
                and self.category != other.category
            )
        )

    def covers(self) -> ColumnElement[bool]:
        terms: list[ColumnElement[bool]] = []
        if self.group_id is not None:
            terms.append(Ticket.group_id == self.group_id)
        if self.category is not None:
            terms.append(Ticket.category == self.category)
        return and_(true(), *terms)

    def misses(self) -> ColumnElement[bool]:
        """NOT covers, spelled out so that a ticket of no group (NULL) is missed, not unknown."""
        terms: list[ColumnElement[bool]] = []
        if self.group_id is not None:
            terms.append(or_(Ticket.group_id.is_(None), Ticket.group_id != self.group_id))
        if self.category is not None:
            terms.append(Ticket.category != self.category)
        return or_(false(), *terms)


def _scopes(policies: Iterable[Any], priority: str) -> list[_Scope]:
    """The scopes of a priority, most specific first; the default targets last when the tenant
    has no policy for every ticket of the priority."""
    scopes = [
        _Scope(
            p.group_id,
            p.category,
            p.response_minutes,
            p.resolution_minutes,
            BusinessCalendar.parse(p.calendar),
        )
        for p in policies
        if p.priority == priority
    ]
    if not any(s.group_id is None and s.category is None for s in scopes):
        response, resolution = DEFAULT_TARGETS[priority]
        scopes.append(_Scope(None, None, response, resolution, ALWAYS_OPEN))
    return sorted(scopes, key=lambda s: -s.rank)


def at_risk_clause(
    session: Session, tenant_id: uuid.UUID, *, at: datetime | None = None
) -> ColumnElement[bool]:
    """SQL for "at risk": the running target is not due yet, and less than the tenant's
    at-risk share of it is left. One term per policy (and per default target), each limited to
    the tickets that policy is the most specific one for (``clock.policy_for``'s order: group
    and category, group, category, neither), so it is served by the ``sla_due_at`` index."""
    at = at or now()
    share = at_risk_percent(session, tenant_id) / 100
    policies = tenant_policies(session, tenant_id)
    terms: list[ColumnElement[bool]] = []
    ends: list[datetime] = []
    for priority in PRIORITIES:
        scopes = _scopes(policies, priority)
        for scope in scopes:
            taken = [
                other.misses()
                for other in scopes
                if other.rank > scope.rank and other.overlaps(scope)
            ]
            response_end = scope.calendar.add_minutes(at, scope.response_minutes * share)
            resolution_end = scope.calendar.add_minutes(at, scope.resolution_minutes * share)
            ends.extend([response_end, resolution_end])
            terms.append(
                and_(
                    Ticket.priority == priority,
                    scope.covers(),
                    *taken,
                    or_(
                        and_(
                            Ticket.first_response_at.is_(None),
                            Ticket.sla_due_at < response_end,
                        ),
                        and_(
                            Ticket.first_response_at.is_not(None),
                            Ticket.sla_due_at < resolution_end,
                        ),
                    ),
                )
            )
    # The overall window first, so that the sla_due_at index bounds the scan on both sides.
    return and_(Ticket.sla_due_at > at, Ticket.sla_due_at < max(ends), or_(false(), *terms))
