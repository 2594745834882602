"""The report rollups: one fact row per ticket and one move row per counted change.

``report_ticket_facts`` holds what every standard report reads of a ticket, with its durations
already measured in calendar and business minutes (the ticket's SLA calendar) and its dates
already turned into days, weeks and months of the tenant's time zone, so that a report is a
GROUP BY over an indexed date range and never replays a ticket's history.

``report_moves`` holds one row per creation, resolution, closing, reopening and public staff
reply, with its local day and its effect on the backlog, for the volume and agent reports.

``report_daily`` sums the moves per tenant, day and kind (upserted with them), so the volume
report without filters reads one row per day and kind, and the backlog before any day is a sum
over at most a row per day.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId

TicketId = BigInteger().with_variant(Integer(), "sqlite")


class ReportFact(Base):
    """``report_ticket_facts``: one ticket as the reports see it."""

    __tablename__ = "report_ticket_facts"
    __table_args__ = (
        Index("ix_report_ticket_facts_tenant_created_day", "tenant_id", "created_day"),
        Index("ix_report_ticket_facts_tenant_resolved_day", "tenant_id", "resolved_day"),
        Index("ix_report_ticket_facts_tenant_status", "tenant_id", "status"),
        # The exact percentiles: the values of one duration bin, in order (``summaries``).
        *(
            Index(
                f"ix_report_ticket_facts_tenant_{column}",
                "tenant_id",
                column,
                postgresql_include=[day, "merged"],
            )
            for column, day in (
                ("first_response_minutes", "created_day"),
                ("first_response_business", "created_day"),
                ("resolution_minutes", "resolved_day"),
                ("resolution_business", "resolved_day"),
            )
        ),
        # The agents' exact medians: one agent's values of one bin, in order.
        *(
            Index(
                f"ix_report_ticket_facts_tenant_agent_{column}",
                "tenant_id",
                "agent",
                column,
                postgresql_include=["created_day"],
            )
            for column in (
                "first_response_minutes",
                "first_response_business",
                "resolution_minutes",
                "resolution_business",
            )
        ),
    )

    ticket_id: Mapped[int] = mapped_column(
        TicketId, ForeignKey("support_tickets.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    requester: Mapped[int] = mapped_column(Integer)
    agent: Mapped[int | None] = mapped_column(Integer, default=None)
    agent_group: Mapped[int | None] = mapped_column(Integer, default=None)
    category: Mapped[str] = mapped_column(String(50))
    priority: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    merged: Mapped[bool] = mapped_column(Boolean, default=False)
    policy_id: Mapped[int | None] = mapped_column(BigId, default=None)
    created_at: Mapped[datetime] = mapped_column()
    created_day: Mapped[date] = mapped_column(Date)
    created_week: Mapped[date] = mapped_column(Date)
    created_month: Mapped[date] = mapped_column(Date)
    resolved_day: Mapped[date | None] = mapped_column(Date, default=None)
    resolved_week: Mapped[date | None] = mapped_column(Date, default=None)
    resolved_month: Mapped[date | None] = mapped_column(Date, default=None)
    # Minutes from creation to the first public staff reply / to the (latest) resolution.
    first_response_minutes: Mapped[float | None] = mapped_column(Float, default=None)
    first_response_business: Mapped[float | None] = mapped_column(Float, default=None)
    resolution_minutes: Mapped[float | None] = mapped_column(Float, default=None)
    resolution_business: Mapped[float | None] = mapped_column(Float, default=None)
    response_target: Mapped[int] = mapped_column(Integer)
    resolution_target: Mapped[int] = mapped_column(Integer)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int | None] = mapped_column(Integer, default=None)
    has_feedback: Mapped[bool] = mapped_column(Boolean, default=False)
    # The replay state: the status last seen, and business time not counted as working time
    # (Pending, Resolved, Closed) up to now, to measure business resolution time.
    last_status: Mapped[str] = mapped_column(String(20))
    stopped_since: Mapped[datetime | None] = mapped_column(default=None)
    stopped_business: Mapped[float] = mapped_column(Float, default=0.0)


class ReportMove(Base):
    """``report_moves``: a counted change of one ticket on one local day."""

    __tablename__ = "report_moves"
    __table_args__ = (Index("ix_report_moves_tenant_day", "tenant_id", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(
        TicketId, ForeignKey("support_tickets.id", ondelete="CASCADE")
    )
    day: Mapped[date] = mapped_column(Date)
    # created, resolved, closed, reopened, reply
    kind: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[int | None] = mapped_column(Integer, default=None)
    # +1 a ticket joins the backlog (created, reopened), -1 it leaves it, 0 neither.
    backlog: Mapped[int] = mapped_column(Integer, default=0)


class ReportDaily(Base):
    """``report_daily``: how many moves of a kind a tenant had on a day (per replying agent for
    replies, ``actor_id`` 0 otherwise), and their backlog sum."""

    __tablename__ = "report_daily"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "day", "kind", "actor_id"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[int] = mapped_column(Integer, default=0)
    count: Mapped[int] = mapped_column(Integer, default=0)
    backlog: Mapped[int] = mapped_column(Integer, default=0)


class SavedReport(Base):
    """``report_saved``: a standard report with its query, saved by name by one person, and
    shared with the whole tenant or not."""

    __tablename__ = "report_saved"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("auth_user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    report: Mapped[str] = mapped_column(String(40))
    query: Mapped[dict[str, Any]] = mapped_column(default=dict)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=now)


class ReportDurationBin(Base):
    """``report_duration_bins``: how many tickets' durations fall in each bin of minutes
    (``rollups.BOUNDS``), per day (``span`` "d") and per month (``span`` "m", ``day`` its first
    day), and their sum in micro-minutes; of the four measures ``fr``, ``frb`` (first response,
    calendar and business, by created day) and ``res``, ``resb`` (resolution, by resolved day),
    over tickets not merged. A sum over the facts: ``rollups.summaries`` says what each adds."""

    __tablename__ = "report_duration_bins"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "measure", "span", "day", "bin"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    measure: Mapped[str] = mapped_column(String(4))
    span: Mapped[str] = mapped_column(String(1))
    day: Mapped[date] = mapped_column(Date)
    bin: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)


class ReportSlaDay(Base):
    """``report_sla_days``: per created day and SLA policy (0: none), the tickets not merged,
    those responded and resolved, and those within their targets."""

    __tablename__ = "report_sla_days"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "day", "policy_id"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    policy_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    tickets: Mapped[int] = mapped_column(Integer, default=0)
    responded: Mapped[int] = mapped_column(Integer, default=0)
    response_met: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    resolution_met: Mapped[int] = mapped_column(Integer, default=0)


class ReportCreatedDay(Base):
    """``report_created_days``: tickets created per day, category, priority and channel."""

    __tablename__ = "report_created_days"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "day", "category", "priority", "channel"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(50))
    priority: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    count: Mapped[int] = mapped_column(Integer, default=0)


class ReportRatingDay(Base):
    """``report_rating_days``: rated tickets per created day, agent (0: none), category and
    rating."""

    __tablename__ = "report_rating_days"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "day", "agent", "category", "rating"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    agent: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(50))
    rating: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer, default=0)


class ReportAgentDay(Base):
    """``report_agent_days``: per created day and assigned agent, the tickets assigned, resolved,
    finished once (resolved now or reopened since), reopened, and their ratings' sum and count."""

    __tablename__ = "report_agent_days"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "day", "agent"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    agent: Mapped[int] = mapped_column(Integer)
    assigned: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    finished: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)


class ReportAgentBin(Base):
    """``report_agent_bins``: per assigned agent, the four durations of the tickets created in a
    day, ISO week or month (``span`` "d", "w", "m"; ``day`` its first day) by coarser bins
    (``summaries.AGENT_BOUNDS``), for the agents' exact medians."""

    __tablename__ = "report_agent_bins"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "span", "day", "agent", "measure", "bin"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    agent: Mapped[int] = mapped_column(Integer)
    measure: Mapped[str] = mapped_column(String(4))
    span: Mapped[str] = mapped_column(String(1))
    day: Mapped[date] = mapped_column(Date)
    bin: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer, default=0)
