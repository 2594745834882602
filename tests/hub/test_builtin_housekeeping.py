"""Housekeeping: links and console sessions that ended more than a week ago are deleted by the
hourly task; live ones, and ones that ended recently, stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from core.clock import FrozenClock, set_clock
from core.models import AuthLink, AuthSession
from core.services import links, sessions
from hub.builtin_housekeeping import run_purge
from tests.conftest import TenantSet


def test_ended_links_and_sessions_go_a_week_later(hub: Any, org: TenantSet) -> None:
    clock = FrozenClock(datetime(2026, 3, 1, 12, tzinfo=UTC))
    set_clock(clock)
    tenant_id, user_id = org.end_user.tenant_id, org.end_user.user_id
    with hub.session() as s:
        old = links.issue(
            s,
            links.SIGNIN,
            tenant_id=tenant_id,
            email=org.end_user.email,
            user_id=user_id,
            ttl=timedelta(days=1),
        ).link.id
        revoked = sessions.create(s, user_id=user_id, tenant_id=tenant_id)
        sessions.revoke(s, revoked)
    clock.advance(days=3)
    with hub.session() as s:
        fresh = links.issue(
            s,
            links.SIGNIN,
            tenant_id=tenant_id,
            email=org.end_user.email,
            user_id=user_id,
            ttl=timedelta(days=30),
        ).link.id
    clock.advance(days=6)  # the old link expired 8 days ago, the session was revoked 9 days ago
    with hub.session() as s:
        live = sessions.create(s, user_id=user_id, tenant_id=tenant_id)
    run_purge(hub)
    with hub.read_session() as s:
        kept_links = set(s.scalars(select(AuthLink.id).where(AuthLink.user_id == user_id)))
        assert old not in kept_links and fresh in kept_links
        assert sessions.lookup(s, live) is not None
        assert s.scalar(select(AuthSession.id).where(AuthSession.revoked_at.is_not(None))) is None
