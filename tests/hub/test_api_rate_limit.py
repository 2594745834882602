"""API rate limiting per token (and per client address without one), on memory and on Redis."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from core.models import TenantAudit
from hub.api import rate_limit
from hub.api.rate_limit import ApiRateLimiter
from hub.context import Hub
from hub.settings import Settings
from tests.conftest import TenantSet
from tests.services import port_open, require

T = "/api/v1/support/tickets/"
HEADERS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")


@pytest.fixture
def short_windows(hub: Hub) -> Iterator[ApiRateLimiter]:
    limiter = ApiRateLimiter(default="3/2 seconds", anonymous="2/2 seconds")
    rate_limit.install(hub, limiter)
    yield limiter
    rate_limit.install(
        hub,
        ApiRateLimiter(
            default=hub.settings.api_rate_limit, anonymous=hub.settings.api_rate_limit_anonymous
        ),
    )


def test_every_api_answer_carries_the_headers(org: TenantSet) -> None:
    r = org.agent.get(T)
    assert r.status_code == 200
    assert r.headers["ratelimit-limit"] == "600"
    assert 0 <= int(r.headers["ratelimit-remaining"]) < 600
    assert int(r.headers["ratelimit-reset"]) <= 60
    anonymous = org.agent.client.get(T)
    assert anonymous.status_code == 401 and anonymous.headers["ratelimit-limit"] == "120"
    assert "ratelimit-limit" not in org.agent.client.get("/login").headers  # console: not API


def test_429_with_retry_after_recovers_and_spares_other_tokens(
    org: TenantSet, short_windows: ApiRateLimiter
) -> None:
    answers = [org.agent.get(T) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r.headers["ratelimit-remaining"] for r in answers] == ["2", "1", "0", "0"]
    refused = answers[-1]
    assert 1 <= int(refused.headers["retry-after"]) <= 2
    assert refused.json()["code"] == "rate_limited"
    assert all(h in refused.headers for h in HEADERS)
    # A write is refused before its body is read or anything is written.
    assert org.agent.post(T, json={"subject": "x"}).status_code == 429
    # Another token (another person) is unaffected.
    assert org.admin.get(T).status_code == 200
    time.sleep(int(refused.headers["retry-after"]) + 0.1)
    assert org.agent.get(T).status_code == 200


def test_anonymous_calls_are_limited_per_client_address(
    client, short_windows: ApiRateLimiter
) -> None:  # type: ignore[no-untyped-def]
    codes = [client.get(T).status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    # An unknown token counts as anonymous (no per-token bucket for guesses).
    r = client.get(T, headers={"Authorization": "Bearer hub_nope"})
    assert r.status_code == 429 and r.headers["retry-after"]


def test_a_console_session_counts_on_its_own(
    hub, client, org: TenantSet, short_windows: ApiRateLimiter
) -> None:  # type: ignore[no-untyped-def]
    from hub.api.deps import SESSION_COOKIE, make_session_cookie

    for _ in range(2):
        client.get(T)  # the address's anonymous allowance is used up
    assert client.get(T).status_code == 429
    value, _ = make_session_cookie(hub, user_id=org.agent.user_id, tenant_id=org.tenant[0])
    client.cookies.set(SESSION_COOKIE, value)
    answers = [client.get(T) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert answers[0].headers["ratelimit-limit"] == "3"
    client.cookies.set(SESSION_COOKIE, value[:-4] + "AAAA")  # forged: the address's bucket
    assert client.get(T).status_code == 429
    client.cookies.clear()


def test_a_tenant_admin_sets_the_rate_cached_briefly(
    hub, org: TenantSet, other_org: TenantSet, short_windows: ApiRateLimiter
) -> None:  # type: ignore[no-untyped-def]
    r = org.admin.get("/api/v1/admin/rate-limit/")
    assert r.status_code == 200 and r.json()["tenant_rate"] is None
    assert r.json()["per_token"] == "600/minute"  # the hub setting (the limiter is the test's)
    assert org.agent.get("/api/v1/admin/rate-limit/").status_code == 403
    bad = org.admin.patch("/api/v1/admin/rate-limit/", json={"per_token": "lots"})
    assert bad.status_code == 422 and bad.json()["field"] == "per_token"
    r = org.admin.patch("/api/v1/admin/rate-limit/", json={"per_token": "2 / Hour"})
    assert r.status_code == 200 and r.json()["tenant_rate"] == "2/hour"
    assert [org.agent.get(T).status_code for _ in range(3)] == [200, 200, 429]
    assert org.agent.get(T).headers["ratelimit-limit"] == "2"
    assert other_org.agent.get(T).headers["ratelimit-limit"] == "3"  # the default here
    with hub.session() as s:
        row = s.scalars(select(TenantAudit).where(TenantAudit.action == "ratelimit.changed")).one()
    assert row.details == {"old": None, "new": "2/hour"}
    # Cached: a change made elsewhere (another process) is not read on every request.
    reads = []
    original = rate_limit.api_limits.rate_of

    def counting(session, tenant_id):  # type: ignore[no-untyped-def]
        reads.append(tenant_id)
        return original(session, tenant_id)

    rate_limit.api_limits.rate_of = counting  # type: ignore[assignment]
    try:
        short_windows.invalidate()
        for _ in range(5):
            other_org.agent.get(T)
    finally:
        rate_limit.api_limits.rate_of = original  # type: ignore[assignment]
    assert reads == [other_org.tenant[0]]


def test_a_storage_that_is_down_limits_nothing(hub, org: TenantSet) -> None:  # type: ignore[no-untyped-def]
    rate_limit.install(hub, ApiRateLimiter("redis://127.0.0.1:1/0", default="1/minute"))
    try:
        answers = [org.agent.get(T) for _ in range(3)]
    finally:
        rate_limit.install(hub, ApiRateLimiter())
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert "ratelimit-limit" not in answers[0].headers


@pytest.mark.redis
def test_counts_in_redis_across_processes() -> None:
    """Two limiters (two processes) on one Redis db of its own (/14, flushed only there)."""
    require(port_open("127.0.0.1", 6379), "Redis not reachable at 127.0.0.1:6379")
    import redis

    uri = "redis://127.0.0.1:6379/14"
    redis.Redis.from_url(uri).flushdb()
    try:
        one = ApiRateLimiter(uri, default="3/minute")
        two = ApiRateLimiter(uri, default="3/minute")
        key = uuid.uuid4().hex
        assert one.hit(one.default, "api-token", key).allowed  # type: ignore[union-attr]
        assert two.hit(two.default, "api-token", key).allowed  # type: ignore[union-attr]
        third = one.hit(one.default, "api-token", key)
        assert third is not None and third.allowed and third.remaining == 0
        refused = two.hit(two.default, "api-token", key)
        assert refused is not None and not refused.allowed
        assert "Retry-After" in refused.headers() and refused.reset_in <= 60
        assert two.hit(two.default, "api-token", uuid.uuid4().hex).allowed  # type: ignore[union-attr]
    finally:
        redis.Redis.from_url(uri).flushdb()


def test_storage_setting_accepts_both_names(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HUB_RATELIMIT_STORAGE", "redis://127.0.0.1:6379/14")
    assert Settings(_env_file=None).rate_limit_storage == "redis://127.0.0.1:6379/14"  # type: ignore[call-arg]
    monkeypatch.delenv("HUB_RATELIMIT_STORAGE")
    monkeypatch.setenv("HUB_RATE_LIMIT_STORAGE", "redis://127.0.0.1:6379/13")
    assert Settings(_env_file=None).rate_limit_storage == "redis://127.0.0.1:6379/13"  # type: ignore[call-arg]
