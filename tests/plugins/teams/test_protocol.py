"""The Teams wire protocol: Bot Connector JWTs, tenant binding, outgoing-webhook HMAC, and how
Bot Connector failures reach the outbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from core.clock import FrozenClock, set_clock
from core.models import OutboxEvent
from tests.conftest import TenantSet
from tests.plugins.teams.conftest import (
    APP_ID,
    APP_PASSWORD,
    WEBHOOK_URL,
    TeamsWorld,
    configure,
    fixture,
    webhook_secret,
)
from tests.plugins.teams.fake_teams import FakeTeams

PERSONAL = "a:1personal-conversation-id"


# ------------------------------------------------------------------ Bot Connector tokens


@pytest.mark.parametrize(
    "case", ["audience", "issuer", "signature", "expired", "service_url", "unknown_key", "garbage"]
)
def test_bad_token_is_401_and_stores_nothing(world: TeamsWorld, case: str) -> None:
    fake = world.fake
    token = {
        "audience": lambda: fake.token(aud="some-other-app"),
        "issuer": lambda: fake.token(iss="https://sts.windows.net/evil/"),
        "signature": lambda: fake.token(key=rsa.generate_private_key(65537, 2048)),
        "expired": lambda: fake.token(exp_in=-600),  # beyond the 5 minutes' leeway
        "service_url": lambda: fake.token(service_url="https://evil.example/"),
        "unknown_key": lambda: fake.token(kid="not-in-jwks"),
        "garbage": lambda: "not.a.jwt",
    }[case]()
    r = world.send(world.activity("message.personal_chat"), token=token)
    assert r.status_code == 401, r.text
    assert "detail" in r.json()
    assert world.tickets() == []


def test_missing_authorization_is_401(world: TeamsWorld) -> None:
    r = world.client.post("/plugins/teams/messages", json=world.activity("message.personal_chat"))
    assert r.status_code == 401
    assert world.tickets() == []


def test_expiry_is_read_from_the_hub_clock_with_leeway(world: TeamsWorld) -> None:
    clock = FrozenClock(datetime.now(UTC))
    set_clock(clock)
    token = world.fake.token(exp_in=3600)
    clock.advance(minutes=64)  # expired 4 minutes ago: within the leeway
    assert world.send(world.activity("message.personal_chat"), token=token).status_code == 200
    clock.advance(minutes=2)
    r = world.send(world.activity("message.personal_chat", id="1772442000009"), token=token)
    assert r.status_code == 401
    assert len(world.tickets()) == 1


def test_signing_keys_are_cached(world: TeamsWorld) -> None:
    for n in range(3):
        assert (
            world.send(world.activity("message.personal_chat", id=f"177244200100{n}")).status_code
            == 200
        )
    assert len(world.fake.of("keys")) == 1


def test_rotated_signing_key_is_fetched_at_most_every_five_minutes(world: TeamsWorld) -> None:
    clock = FrozenClock(datetime.now(UTC))
    set_clock(clock)
    assert world.send(world.activity("message.personal_chat")).status_code == 200
    world.fake.rotate()
    act = world.activity("message.personal_chat", id="1772442000500")
    assert world.send(act).status_code == 401  # unknown key id, keys fetched a moment ago
    assert len(world.fake.of("keys")) == 1
    clock.advance(minutes=6)
    assert world.send(act).status_code == 200
    assert len(world.fake.of("keys")) == 2


def test_disabled_tenant_is_404(world: TeamsWorld) -> None:
    r = world.org.admin.post("/api/v1/admin/plugins/teams/disable/")
    assert r.status_code == 200, r.text
    r = world.send(world.activity("message.personal_chat"))
    assert r.status_code == 404
    assert "detail" in r.json()
    assert world.tickets() == []


def test_unknown_bot_is_404(world: TeamsWorld) -> None:
    act = world.activity("message.personal_chat", recipient={"id": "28:someone-else"})
    r = world.send(act, token=world.fake.token(aud="someone-else"))
    assert r.status_code == 404


def test_a_second_tenant_cannot_claim_an_app_id(world: TeamsWorld, other_org: TenantSet) -> None:
    r = other_org.admin.patch("/api/v1/admin/plugins/teams/", json={"settings": {"app_id": APP_ID}})
    assert r.status_code == 409, r.text
    assert "another tenant" in r.json()["detail"]
    assert world.send(world.activity("message.personal_chat")).status_code == 200
    assert len(world.tickets()) == 1
    assert other_org.agent.get("/api/v1/support/tickets/").json()["results"] == []


def test_tickets_land_in_the_bots_tenant_only(
    world: TeamsWorld, other_org: TenantSet, fake_teams: FakeTeams
) -> None:
    configure(other_org, fake_teams, app_id="another-bot")
    assert world.send(world.activity("message.personal_chat")).status_code == 200
    assert len(world.tickets()) == 1
    r = other_org.agent.get("/api/v1/support/tickets/")
    assert r.json()["results"] == []


def test_malformed_body_is_400(world: TeamsWorld) -> None:
    r = world.client.post(
        "/plugins/teams/messages",
        content=b"[1, 2",
        headers={"Authorization": f"Bearer {world.fake.token()}"},
    )
    assert r.status_code == 400


def test_secrets_are_not_returned_by_the_admin_api(world: TeamsWorld) -> None:
    r = world.org.admin.get("/api/v1/admin/plugins/")
    assert r.status_code == 200, r.text
    assert APP_ID in r.text  # plain settings are shown
    assert "fake-app-password-NOT-REAL" not in r.text
    assert webhook_secret() not in r.text


# ------------------------------------------------------------------ outgoing webhook


def _webhook(world: TeamsWorld, name: str, query: str = "") -> tuple[int, dict]:
    req = fixture(f"outgoing_webhook/{name}.json")
    r = world.client.post(
        WEBHOOK_URL + query, content=req["raw_body"].encode(), headers=req["headers"]
    )
    return r.status_code, r.json()


@pytest.fixture
def webhook_world(world: TeamsWorld) -> TeamsWorld:
    """A tenant using only the outgoing webhook (no bot password: nothing is posted back)."""
    configure(world.org, world.fake, app_password="")
    r = world.org.admin.patch(
        "/api/v1/admin/plugins/teams/", json={"settings": {"app_password": ""}}
    )
    assert r.status_code == 200, r.text
    return world


def test_outgoing_webhook_valid_hmac_opens_ticket_and_names_it(webhook_world: TeamsWorld) -> None:
    world = webhook_world
    # The fixture was signed with the secret it carries (the tenant's configured secret).
    status, body = _webhook(world, "request.valid_hmac")
    assert status == 200, body
    tickets = world.tickets()
    assert len(tickets) == 1
    expected_shape = fixture("outgoing_webhook/response.text.json")
    assert body["type"] == expected_shape["type"] == "message"
    assert body["text"] == expected_shape["text"].replace("#1234", f"#{tickets[0]['id']}")
    assert tickets[0]["subject"] == "printer on floor 3 is down"
    # Teams re-sending the same message: no second ticket, the answer names the first one.
    status, body = _webhook(world, "request.valid_hmac")
    assert status == 200 and f"#{tickets[0]['id']}" in body["text"]
    assert len(world.tickets()) == 1
    # A webhook-only tenant posts nothing through the Bot Connector (it has no bot password).
    world.drain()
    assert world.fake.of("send") == [] and world.fake.of("token") == []
    # Named tenant works too.
    status, _ = _webhook(world, "request.valid_hmac", f"?tenant={world.org.agent.tenant_slug}")
    assert status == 200


def test_outgoing_webhook_bad_hmac_is_401(webhook_world: TeamsWorld) -> None:
    status, body = _webhook(webhook_world, "request.bad_hmac")
    assert status == 401 and "detail" in body
    assert webhook_world.tickets() == []


def test_outgoing_webhook_disabled_tenant(webhook_world: TeamsWorld) -> None:
    world = webhook_world
    assert world.org.admin.post("/api/v1/admin/plugins/teams/disable/").status_code == 200
    status, _ = _webhook(world, "request.valid_hmac", f"?tenant={world.org.agent.tenant_slug}")
    assert status == 404
    status, _ = _webhook(world, "request.valid_hmac")  # no tenant's secret signs it now
    assert status == 401
    assert world.tickets() == []


# ------------------------------------------------------------------ outbound failures


def _rows(world: TeamsWorld, ticket_id: int) -> list[OutboxEvent]:
    with world.hub.session() as s:
        rows = list(
            s.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.ticket_id == ticket_id)
                .order_by(OutboxEvent.id)
            )
        )
        s.expunge_all()
    return rows


def test_connector_5xx_is_retried_and_posts_once(world: TeamsWorld) -> None:
    clock = FrozenClock(datetime.now(UTC))
    set_clock(clock)
    assert world.send(world.activity("message.personal_chat")).status_code == 200
    ticket = world.tickets()[0]
    world.fake.fail["send"] = [502]  # the acknowledgement fails once
    world.drain()
    created = [r for r in _rows(world, ticket["id"]) if r.event_type == "ticket.created"][0]
    assert created.status == "pending" and "502" in (created.last_error or "")
    clock.advance(minutes=5)
    world.drain()
    created = [r for r in _rows(world, ticket["id"]) if r.event_type == "ticket.created"][0]
    assert created.status == "delivered"
    acks = [c for c in world.fake.sent_to(PERSONAL) if c.answer]
    assert len(acks) == 1
    assert len(world.fake.sent_to("19:triage@thread.tacv2")) == 1


def test_connector_4xx_is_noted_and_not_retried(world: TeamsWorld) -> None:
    assert world.send(world.activity("message.personal_chat")).status_code == 200
    ticket = world.tickets()[0]
    world.fake.fail["send"] = [403]
    world.drain()
    created = [r for r in _rows(world, ticket["id"]) if r.event_type == "ticket.created"][0]
    assert created.status == "delivered"
    notes = [c for c in world.comments(ticket["id"]) if c["is_internal"]]
    assert len(notes) == 1 and "403" in notes[0]["comment"]
    world.drain()
    assert len([c for c in world.comments(ticket["id"]) if c["is_internal"]]) == 1
    # The requester never sees the note.
    for call in world.fake.of("send"):
        assert "did not accept" not in call.text()


def test_bot_token_is_renewed_when_it_expires(world: TeamsWorld) -> None:
    clock = FrozenClock(datetime.now(UTC))
    set_clock(clock)
    assert world.send(world.activity("message.personal_chat")).status_code == 200
    ticket = world.tickets()[0]
    world.drain()
    assert len(world.fake.of("token")) == 1
    clock.advance(hours=2)
    r = world.org.agent.post(
        f"/api/v1/support/tickets/{ticket['id']}/comment/", json={"comment": "Any better now?"}
    )
    assert r.status_code == 201
    world.drain()
    assert len(world.fake.of("token")) == 2
    # msal read the tenant's OpenID discovery once, over the egress policy, before its first
    # token; the renewal after the hub clock's two hours is msal's cache expiring.
    assert len(world.fake.of("discovery")) == 1
    assert world.fake.calls.index(world.fake.of("discovery")[0]) < world.fake.calls.index(
        world.fake.of("token")[0]
    )
    last = world.fake.sent_to(PERSONAL)[-1]
    assert "Any better now?" in last.text()
    assert last.auth == f"Bearer {world.fake.of('token')[-1].answer['access_token']}"


def test_outgoing_webhook_secret_picks_the_tenant(
    webhook_world: TeamsWorld, other_org: TenantSet
) -> None:
    world = webhook_world
    # Another tenant with its own bot and webhook secret: the fixture's signature is not theirs.
    configure(
        other_org,
        world.fake,
        app_id="another-bot",
        app_password="",
        outgoing_webhook_secret="b3RoZXItc2VjcmV0",
    )
    status, body = _webhook(world, "request.valid_hmac")
    assert status == 200, body
    assert len(world.tickets()) == 1
    assert other_org.agent.get("/api/v1/support/tickets/").json()["results"] == []
    # Both claiming the same secret: nobody's (nothing may cross tenants).
    configure(other_org, world.fake, app_id="another-bot", app_password="")
    status, _ = _webhook(world, "request.valid_hmac")
    assert status == 401


def test_an_activity_whose_commit_fails_is_not_acknowledged(world: TeamsWorld) -> None:
    """The Bot Connector must deliver again: a 2xx before the commit would lose the message."""
    from tests.faults import failing_commits

    activity = world.activity("message.personal_chat")
    with failing_commits() as commits:
        r = world.send(activity)
    assert commits and r.status_code >= 500, r.text
    assert world.tickets() == []
    assert world.send(activity).status_code == 200
    assert len(world.tickets()) == 1


def test_credentials_the_token_endpoint_refuses_are_noted_without_the_secret(
    world: TeamsWorld,
) -> None:
    # msal's token request is answered invalid_client: nothing is posted, an internal note
    # says why (the error code, never the client secret), and the event is not retried.
    world.fake.app_password = "the-password-azure-now-has"
    assert world.send(world.activity("message.personal_chat")).status_code == 200
    ticket = world.tickets()[0]
    world.drain()
    assert world.fake.of("token") and world.fake.of("send") == []
    notes = [c["comment"] for c in world.comments(ticket["id"]) if c["is_internal"]]
    refused = [n for n in notes if n.startswith("Teams did not accept")]
    assert refused and all("token endpoint refused: invalid_client" in n for n in refused)
    assert all(APP_PASSWORD not in n for n in notes)
    created = [r for r in _rows(world, ticket["id"]) if r.event_type == "ticket.created"][0]
    assert created.status == "delivered"


def test_login_url_must_be_an_aad_v2_token_endpoint(world: TeamsWorld) -> None:
    r = world.org.admin.patch(
        "/api/v1/admin/plugins/teams/",
        json={"settings": {"login_url": f"{world.fake.root}/token"}},
    )
    assert r.status_code == 422, r.text
    assert "/oauth2/v2.0/token" in r.text
