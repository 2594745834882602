"""The queue's layout and the SLA at-risk share over HTTP: counts per saved view (one query for
all of them), the density kept per person, the "At risk" filter, and the at-risk share set by an
admin on the SLA page (refused values named, audited)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import event, select

from core.clock import FrozenClock, set_clock
from core.models import Audit
from core.sla import countdown as sla_countdown
from tests.hub.web.conftest import sign_in

T = "/api/v1/support/tickets/"


@contextmanager
def counting(hub) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """Statements sent on the hub's engines."""
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA")):
            seen.append(statement)

    engines = list({id(e): e for e in (hub.engine, hub.read_engine)}.values())
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


def _uncached(statements: list[str]) -> list[str]:
    """The statements that are not reloads of a per-tenant cache (policies, the at-risk share)."""
    cached = ("FROM support_sla_policies", "SELECT tenants.settings")
    return [q for q in statements if not any(c in q for c in cached)]


def _tickets(member, n: int, priority: str = "Low") -> list[int]:  # type: ignore[no-untyped-def]
    ids = []
    for i in range(n):
        r = member.post(
            T,
            json={
                "subject": f"{priority} {i}",
                "description": "d",
                "category": "Other",
                "priority": priority,
            },
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def test_saved_views_show_their_counts_in_one_query(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    _tickets(web_org["end_user"], 3)
    _tickets(web_org["end_user"], 2, "Critical")
    agent = sign_in(app, web_org["agent"].email)
    agent.page("/queue")
    for name, query in (("Critical ones", "priority=Critical"), ("Low ones", "priority=Low")):
        assert agent.post("/queue/views", {"name": name, "query": query}).status_code == 303
    with counting(hub) as two:
        page = agent.page("/queue")
    assert 'Critical ones <span class="view-count">2<' in page
    assert 'Low ones <span class="view-count">3<' in page
    agent.post("/queue/views", {"name": "Everything", "query": ""})
    agent.post("/queue/views", {"name": "New", "query": "status=New"})
    with counting(hub) as four:
        page = agent.page("/queue")
    assert 'Everything <span class="view-count">5<' in page
    # Cached per-tenant settings (SLA policies, the at-risk share) may reload between the two
    # pages on a slow machine; what matters is that more views cost no more queries.
    assert len(_uncached(four)) == len(_uncached(two)), (two, four)


def test_density_is_kept_per_person(app, web_org) -> None:  # type: ignore[no-untyped-def]
    _tickets(web_org["end_user"], 1)
    agent = sign_in(app, web_org["agent"].email)
    manager = sign_in(app, web_org["manager"].email)
    assert 'class="list queue dense"' in agent.page("/queue")  # compact by default
    assert agent.post("/queue/density", {"density": "comfortable"}).status_code == 303
    assert 'class="list queue"' in agent.page("/queue")
    assert 'class="list queue dense"' in manager.page("/queue")
    bad = agent.post("/queue/density", {"density": "tiny"})
    assert bad.status_code == 422 and "density" in bad.text


def test_at_risk_share_on_the_sla_page(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    admin = sign_in(app, web_org["admin"].email)
    page = admin.page("/admin/sla")
    assert 'id="risk-percent" name="percent" value="25"' in page
    bad = admin.post("/admin/sla/settings/at-risk", {"percent": "150"})
    assert bad.status_code == 422
    assert "the at-risk share must be a whole number from 1 to 99" in bad.text
    assert 'value="150"' in bad.text and 'aria-invalid="true"' in bad.text
    assert admin.post("/admin/sla/settings/at-risk", {"percent": "50"}).status_code == 303
    assert 'name="percent" value="50"' in admin.page("/admin/sla")
    with hub.session() as s:
        assert sla_countdown.at_risk_percent(s, web_org["admin"].tenant_id) == 50
        row = s.scalars(select(Audit).where(Audit.action == sla_countdown.AT_RISK_CHANGED)).one()
        assert (row.old_value, row.new_value, row.performed_by) == (
            "25",
            "50",
            web_org["admin"].user_id,
        )
    agent = sign_in(app, web_org["agent"].email)
    agent.page("/queue")
    assert agent.post("/admin/sla/settings/at-risk", {"percent": "10"}).status_code == 404


def test_at_risk_filter_follows_the_share(app, web_org) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(datetime.now(UTC))
    set_clock(clock)
    low = _tickets(web_org["end_user"], 1)[0]  # 24 h to the first response: on track
    clock.advance(minutes=30)
    agent = sign_in(app, web_org["agent"].email)
    page = agent.page("/queue?breached=risk")
    assert f'data-ticket="{low}"' not in page
    admin = sign_in(app, web_org["admin"].email)
    admin.page("/admin/sla")
    admin.post("/admin/sla/settings/at-risk", {"percent": "99"})  # 23.5 h left < 99 % of 24 h
    page = agent.page("/queue?breached=risk")
    assert f'data-ticket="{low}"' in page and "At risk" in page
    assert f'data-ticket="{low}"' not in agent.page("/queue?breached=yes")
