"""The first run's demo tenant: logins for every role (kept for ``hub demo logins``), and content
that shows the product: tickets in every status, category and priority with conversations and
notes, one SLA breached and one at risk, a rating, articles in three sections, macros, SLA
policies with business hours and a rule."""

from __future__ import annotations

from sqlalchemy import func, select

from core import lifecycle
from core.models import AutomationRule, Comment, KbArticle, Macro, SlaPolicy, Ticket
from core.sla.sweep import sweep
from hub.demo import saved_logins, seed_if_empty
from tests.hub.web.conftest import sign_in


def test_the_demo_shows_every_part_of_the_product(hub, app) -> None:  # type: ignore[no-untyped-def]
    logins = seed_if_empty(hub)
    assert {login.role for login in logins} == {"admin", "agent", "manager", "end_user"}
    assert saved_logins(hub) == logins
    assert seed_if_empty(hub) == [], "a database with a tenant is left alone"
    with hub.session() as s:
        tickets = s.scalars(select(Ticket)).all()
        assert len(tickets) >= 15
        assert {t.status for t in tickets} == set(lifecycle.STATUSES)
        assert {t.category for t in tickets} == set(lifecycle.CATEGORIES)
        assert {t.priority for t in tickets} == set(lifecycle.PRIORITIES)
        assert any(t.satisfaction_rating for t in tickets)
        notes = s.scalar(select(func.count()).select_from(Comment).where(Comment.is_internal))
        replies = s.scalar(select(func.count()).select_from(Comment).where(~Comment.is_internal))
        assert notes >= 5 and replies >= 10
        sections = s.execute(
            select(KbArticle.category, func.count())
            .where(KbArticle.status == "published")
            .group_by(KbArticle.category)
        ).all()
        assert len(sections) == 3 and sum(n for _, n in sections) == 10
        assert s.scalar(select(func.count()).select_from(Macro)) == 3
        assert s.scalar(select(func.count()).select_from(AutomationRule)) == 1
        calendars = s.scalars(select(SlaPolicy.calendar)).all()
        assert len(calendars) >= 2 and any(c and c.get("hours") for c in calendars)
        result = sweep(s)
    assert result.breaches, "one ticket is breached"
    assert result.warnings, "one ticket is at risk"
    # Every login works in the console, each landing on its own page.
    for login in logins:
        web = sign_in(app, login.email, login.password)
        assert "Sign out" in web.page("/")
    assert "Payment gateway returns 502" in sign_in(
        app, "agent@demo.example", next(x.password for x in logins if x.role == "agent")
    ).page("/queue")
