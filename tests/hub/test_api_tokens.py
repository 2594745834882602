"""API tokens: created once-shown and hashed, scoped, expiring, revoked at once, last use kept."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core import clock
from core.crypto import hash_token
from core.models import ApiToken, TenantAudit
from core.services import identity
from tests.conftest import TenantSet

TOKENS = "/api/v1/auth/tokens/"
T = "/api/v1/support/tickets/"
NEW = {"subject": "VPN drops", "description": "Every hour.", "category": "Technical Issue"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _create(member, **body):  # type: ignore[no-untyped-def]
    r = member.post(TOKENS, json={"name": "ci", **body})
    assert r.status_code == 201, r.text
    return r.json()


def test_created_once_stored_hashed_listed_without_the_token(hub, org: TenantSet) -> None:  # type: ignore[no-untyped-def]
    made = _create(org.agent, scope="write")
    token = made["token"]
    assert made["scope"] == "write" and made["state"] == "active" and token.startswith("hub_")
    with hub.session() as s:
        row = s.get(ApiToken, made["id"])
        assert row is not None and row.token_hash == hash_token(token)
        assert token not in repr([(r.action, r.details) for r in s.scalars(select(TenantAudit))])
    listed = org.agent.get(TOKENS).json()
    assert made["id"] in {t["id"] for t in listed}
    assert all("token" not in t and "token_hash" not in t for t in listed)
    assert org.admin.client.get(T, headers=_bearer(token)).status_code == 200


def test_scopes_are_enforced_and_never_exceed_the_role(org: TenantSet) -> None:
    read = _create(org.admin, scope="read")["token"]
    assert org.admin.client.get(T, headers=_bearer(read)).status_code == 200
    r = org.admin.client.post(T, headers=_bearer(read), json=NEW)
    assert r.status_code == 403 and "read-only" in r.json()["detail"]

    write = _create(org.admin, scope="write")["token"]
    assert org.admin.client.post(T, headers=_bearer(write), json=NEW).status_code == 201
    r = org.admin.client.get("/api/v1/admin/members/", headers=_bearer(write))
    assert r.status_code == 403 and "admin routes" in r.json()["detail"]
    # An admin's write token acts as an agent, also outside /admin/.
    assert org.admin.client.get("/api/v1/me", headers=_bearer(write)).json()["role"] == "agent"
    # A token never makes a wider one than itself.
    r = org.admin.client.post(
        TOKENS, headers=_bearer(write), json={"name": "wider", "scope": "admin"}
    )
    assert r.status_code == 422 and r.json()["field"] == "scope"

    admin = _create(org.admin, scope="admin")["token"]
    assert org.admin.client.get("/api/v1/admin/members/", headers=_bearer(admin)).status_code == 200

    r = org.agent.post(TOKENS, json={"name": "x", "scope": "admin"})
    assert r.status_code == 422 and "admin" in r.json()["detail"]
    # An agent's admin-scope token does not exist; a demoted admin's acts with the new role.
    demoted = _create(org.manager, scope="write")["token"]
    assert org.admin.client.post(T, headers=_bearer(demoted), json=NEW).status_code == 403


def test_expired_tokens_are_401(org: TenantSet) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=5)
    made = _create(org.agent, scope="read", expires_at=soon.isoformat())
    headers = _bearer(made["token"])
    assert org.admin.client.get(T, headers=headers).status_code == 200
    clock.set_clock(lambda: soon + timedelta(seconds=1))
    assert org.admin.client.get(T, headers=headers).status_code == 401
    assert {t["id"]: t["state"] for t in org.agent.get(TOKENS).json()}[made["id"]] == "expired"
    past = org.agent.post(
        TOKENS, json={"name": "old", "expires_at": (soon - timedelta(days=1)).isoformat()}
    )
    assert past.status_code == 422


def test_revocation_is_a_401_on_the_next_request(hub, org: TenantSet) -> None:  # type: ignore[no-untyped-def]
    made = _create(org.agent, scope="write")
    headers = _bearer(made["token"])
    for _ in range(3):  # warm
        assert org.admin.client.get(T, headers=headers).status_code == 200
    r = org.agent.post(f"{TOKENS}{made['id']}/revoke/")
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    assert org.admin.client.get(T, headers=headers).status_code == 401
    # Revoked in another process (straight in the database): still the very next request.
    other = _create(org.agent, scope="read")
    headers = _bearer(other["token"])
    assert org.admin.client.get(T, headers=headers).status_code == 200
    with hub.session() as s:
        s.get(ApiToken, other["id"]).revoked_at = clock.now()  # type: ignore[union-attr]
    assert org.admin.client.get(T, headers=headers).status_code == 401
    with hub.session() as s:
        actions = [r.action for r in s.scalars(select(TenantAudit))]
    assert actions.count("token.created") == 2 and actions.count("token.revoked") == 1


def test_admins_see_and_revoke_every_token_of_the_tenant(
    org: TenantSet, other_org: TenantSet
) -> None:
    mine = _create(org.agent, scope="read")
    listed = org.admin.get("/api/v1/admin/tokens/").json()
    emails = {t["email"] for t in listed}
    assert {org.agent.email, org.end_user.email, org.admin.email} <= emails
    assert other_org.agent.email not in emails
    assert org.agent.get("/api/v1/admin/tokens/").status_code == 403
    # Someone else's token: 404 to a non-admin, even through their own revoke route.
    assert org.end_user.post(f"{TOKENS}{mine['id']}/revoke/").status_code == 404
    assert org.admin.post(f"{TOKENS}{mine['id']}/revoke/").status_code == 404
    r = org.admin.post(f"/api/v1/admin/tokens/{mine['id']}/revoke/")
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    assert org.admin.client.get(T, headers=_bearer(mine["token"])).status_code == 401
    # Another tenant's token: 404.
    foreign = _create(other_org.agent, scope="read")
    assert org.admin.post(f"/api/v1/admin/tokens/{foreign['id']}/revoke/").status_code == 404
    assert org.admin.post(f"{TOKENS}{foreign['id']}/revoke/").status_code == 404
    assert org.admin.client.get(T, headers=_bearer(foreign["token"])).status_code == 200


def test_last_use_is_written_at_most_once_a_minute(hub, org: TenantSet) -> None:  # type: ignore[no-untyped-def]
    made = _create(org.agent, scope="read")
    headers = _bearer(made["token"])
    start = datetime.now(UTC)
    clock.set_clock(lambda: start)
    org.admin.client.get(T, headers=headers)
    with hub.session() as s:
        first = s.get(ApiToken, made["id"]).last_used_at  # type: ignore[union-attr]
    assert first == start
    clock.set_clock(lambda: start + timedelta(seconds=30))
    org.admin.client.get(T, headers=headers)
    with hub.session() as s:
        assert s.get(ApiToken, made["id"]).last_used_at == first  # type: ignore[union-attr]
    clock.set_clock(lambda: start + timedelta(seconds=61))
    org.admin.client.get(T, headers=headers)
    listed = {t["id"]: t for t in org.agent.get(TOKENS).json()}
    assert listed[made["id"]]["last_used_at"] is not None
    with hub.session() as s:
        assert s.get(ApiToken, made["id"]).last_used_at > first  # type: ignore[union-attr,operator]


def test_a_token_check_per_request_costs_little(hub, org: TenantSet) -> None:  # type: ignore[no-untyped-def]
    """No cache: the check is one indexed query. Measured here so the number stays honest."""
    with hub.read_session() as s:
        started = time.perf_counter()
        for _ in range(200):
            assert identity.authenticate_token(s, org.agent.token) is not None
        per_call = (time.perf_counter() - started) / 200
    print(f"authenticate_token: {per_call * 1e6:.0f} us per call")
    assert per_call < 0.01
