"""The ticket list: filters, cursor pagination, and a constant number of queries per page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, insert

from core.models import Ticket
from tests.conftest import TenantSet

T = "/api/v1/support/tickets/"


def _seed(hub, org: TenantSet, n: int) -> None:  # type: ignore[no-untyped-def]
    """Bulk-insert n tickets (set-up only; the API path is tested elsewhere)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    statuses = ["New", "Open", "In Progress", "Pending", "Resolved"]
    rows = [
        dict(
            tenant_id=org.end_user.tenant_id,
            created_by=org.end_user.user_id,
            subject=f"Ticket {i} {'vpn' if i % 10 == 0 else 'mail'}",
            description="seeded",
            category="Other" if i % 2 else "Access",
            priority=["Low", "Medium", "High", "Critical"][i % 4],
            status=statuses[i % 5],
            channel="api",
            sla_breached=i % 7 == 0,
            created_at=start + timedelta(minutes=i),
            updated_at=start + timedelta(minutes=i),
            assigned_to=org.agent.user_id if i % 3 == 0 else None,
        )
        for i in range(n)
    ]
    with hub.engine.begin() as conn:
        for i in range(0, n, 5000):
            conn.execute(insert(Ticket), rows[i : i + 5000])


@contextmanager
def count_queries(hub) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def before(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    engines = {hub.engine, hub.read_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", before)


def test_cursor_pagination_walks_every_ticket_once(org: TenantSet, hub) -> None:  # type: ignore[no-untyped-def]
    _seed(hub, org, 1234)
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = org.agent.get(T, params=params).json()
        seen += [t["id"] for t in page["results"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 1234 and len(set(seen)) == 1234
    assert seen == sorted(seen, reverse=True)


def test_sort_by_updated_with_cursor(org: TenantSet, hub) -> None:  # type: ignore[no-untyped-def]
    _seed(hub, org, 300)
    first = org.agent.get(T, params={"sort": "updated_at", "limit": 100}).json()
    second = org.agent.get(
        T, params={"sort": "updated_at", "limit": 100, "cursor": first["next_cursor"]}
    ).json()
    stamps = [t["updated_at"] for t in first["results"] + second["results"]]
    assert stamps == sorted(stamps) and len(set(stamps)) == 200


def test_filters(org: TenantSet, hub) -> None:  # type: ignore[no-untyped-def]
    _seed(hub, org, 700)
    get = lambda **p: org.agent.get(T, params={"limit": 200, **p}).json()["results"]  # noqa: E731
    assert {t["status"] for t in get(status=["Pending", "Resolved"])} == {"Pending", "Resolved"}
    assert {t["priority"] for t in get(priority="Critical")} == {"Critical"}
    assert {t["category"] for t in get(category="Access")} == {"Access"}
    assert {t["assigned_to"] for t in get(assigned_to="me")} == {org.agent.user_id}
    assert {t["assigned_to"] for t in get(assigned_to="none")} == {None}
    assert all(t["sla_breached"] for t in get(sla_breached="true"))
    assert all("vpn" in t["subject"] for t in get(q="VPN"))
    window = get(created_after="2026-01-01T01:00:00Z", created_before="2026-01-01T02:00:00Z")
    assert len(window) == 60
    r = org.agent.get(T, params={"status": "Bogus"})
    assert r.status_code == 422
    r = org.agent.get(T, params={"created_after": "2026-01-01T00:00:00"})
    assert r.status_code == 422 and "time zone" in r.json()["detail"]
    r = org.agent.get(T, params={"cursor": "garbage!"})
    assert r.status_code == 422


def test_query_count_is_constant_per_page(org: TenantSet, hub) -> None:  # type: ignore[no-untyped-def]
    _seed(hub, org, 2000)
    org.agent.get(T, params={"limit": 1})  # warm up (the token's last use is written now)
    counts = []
    for limit in (10, 200):
        with count_queries(hub) as seen:
            r = org.agent.get(T, params={"limit": limit})
        assert r.status_code == 200 and len(r.json()["results"]) == limit
        counts.append(len([q for q in seen if q.strip().upper() != "BEGIN"]))
    assert counts[0] == counts[1]
    # One query checks the token (on every request: a revoked token is a 401 at once), one
    # reads the page, one reads the page's tags and custom field values (core.fields.extras).
    assert counts[0] <= 3, counts
