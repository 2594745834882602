"""The one receiver of signed webhooks (core.webhooks.receive_signed): body cap, tenant hint,
which tenant's secret signs the body, the replay window. Framework-free, so tested alone."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from core.clock import FrozenClock, set_clock
from core.webhooks import (
    WebhookRefused,
    body_key,
    check_declared_length,
    receive_signed,
)

A, B = uuid.uuid4(), uuid.uuid4()
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _body(at: datetime = NOW) -> bytes:
    return json.dumps({"at": at.isoformat()}).encode()


def _receive(body: bytes, signature: str, **kw):  # type: ignore[no-untyped-def]
    def parse(raw: bytes) -> dict:
        doc = json.loads(raw)
        if "at" not in doc:
            raise ValueError("no timestamp field")
        return doc

    options = {
        "candidates": [(A, "secret-a"), (B, "secret-b")],
        "verify": lambda secret, raw: hmac.compare_digest(_sign(secret, raw), signature),
        "parse": parse,
        "sent_at": lambda doc: datetime.fromisoformat(doc["at"]),
        "max_body": 1000,
        **kw,
    }
    return receive_signed(body, **options)


@pytest.fixture(autouse=True)
def _clock():  # type: ignore[no-untyped-def]
    set_clock(FrozenClock(NOW))
    yield
    set_clock(None)


def _refusal(body: bytes, signature: str, **kw) -> WebhookRefused:  # type: ignore[no-untyped-def]
    with pytest.raises(WebhookRefused) as caught:
        _receive(body, signature, **kw)
    return caught.value


def test_the_secret_that_signs_the_body_names_the_tenant() -> None:
    body = _body()
    got = _receive(body, _sign("secret-b", body))
    assert (got.tenant_id, got.payload, got.content_key) == (B, json.loads(body), body_key(body))
    assert _refusal(body, _sign("nobody's", body)).status == 401


def test_a_hint_tries_only_the_named_tenants_secret() -> None:
    body = _body()
    resolve = {"a": A, "b": B}.get
    assert _receive(body, _sign("secret-a", body), hint="a", resolve_hint=resolve).tenant_id == A
    assert _refusal(body, _sign("secret-a", body), hint="b", resolve_hint=resolve).status == 401
    unknown = _refusal(body, _sign("secret-a", body), hint="zzz", resolve_hint=resolve)
    assert (unknown.status, unknown.detail) == (404, "not found")


def test_no_tenant_with_the_plugin_on() -> None:
    body = _body()
    assert _refusal(body, _sign("secret-a", body), candidates=[]).status == 404
    assert _refusal(body, _sign("secret-a", body), candidates=[], unnamed_unknown=401).status == 401


def test_an_empty_secret_never_verifies() -> None:
    body = _body()
    anything = _refusal(body, "", candidates=[(A, "")], verify=lambda secret, raw: True)
    assert anything.status == 401


def test_two_tenants_sharing_a_secret_first_match_or_refused_when_unique() -> None:
    body = _body()
    shared = [(A, "same"), (B, "same")]
    assert _receive(body, _sign("same", body), candidates=shared).tenant_id == A
    assert _refusal(body, _sign("same", body), candidates=shared, unique=True).status == 401


def test_body_cap_before_and_after_reading() -> None:
    check_declared_length(None, 10)
    check_declared_length("10", 10)
    with pytest.raises(WebhookRefused) as caught:
        check_declared_length("11", 10)
    assert caught.value.status == 413
    body = _body()
    assert _refusal(body, _sign("secret-a", body), max_body=len(body) - 1).status == 413


def test_unparsable_and_stale_bodies_are_400_with_the_signer_named() -> None:
    bare = b"{}"
    bad = _refusal(bare, _sign("secret-a", bare))
    assert (bad.status, bad.tenant_id, bad.stale) == (400, A, False)
    assert "timestamp" in bad.detail
    for at in (NOW - timedelta(minutes=6), NOW + timedelta(minutes=6)):
        body = _body(at)
        stale = _refusal(body, _sign("secret-a", body))
        assert (stale.status, stale.tenant_id, stale.stale) == (400, A, True)
    late = _body(NOW - timedelta(minutes=4))
    assert _receive(late, _sign("secret-a", late)).tenant_id == A
    # Without ``sent_at`` (a channel whose bodies state no moment) there is no window.
    old = _body(NOW - timedelta(days=1))
    assert _receive(old, _sign("secret-a", old), sent_at=None).tenant_id == A
