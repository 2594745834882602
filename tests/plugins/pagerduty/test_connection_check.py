""" "Test connection" of the PagerDuty plugin against the HTTPS fake: a change event with the
routing key (nobody paged: no Events API event at all), the REST token's abilities, and each
refusal said in words without a secret."""

from __future__ import annotations

from typing import Any

from tests.plugins.pagerduty.conftest import ROUTING_KEY, configure
from tests.plugins.pagerduty.fake_pagerduty import FakePagerDuty


def _check(admin: Any) -> dict[str, Any]:
    r = admin.post("/api/v1/admin/plugins/pagerduty/test/")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_routing_key_and_rest_token_checked(org: Any, fake_pd: FakePagerDuty) -> None:
    configure(org.admin, fake_pd)
    found = _check(org.admin)
    assert found == {
        "ok": True,
        "message": "PagerDuty accepted a change event for the routing key (nobody was paged), "
        "and the REST API token works.",
    }
    changes = [r for r in fake_pd.requests if r.path == "/v2/change/enqueue"]
    assert [c.body["routing_key"] for c in changes] == [ROUTING_KEY]
    assert "nobody is paged" in changes[0].body["payload"]["summary"]
    assert fake_pd.events() == [], "no incident event was sent"

    configure(org.admin, fake_pd, api_token="pd-rest-token-wrong")
    found = _check(org.admin)
    assert found["ok"] is False and "REST API token was refused (HTTP 401)" in found["message"]
    assert "pd-rest-token-wrong" not in found["message"]

    configure(org.admin, fake_pd, routing_key="too-short")
    found = _check(org.admin)
    assert found == {
        "ok": False,
        "message": "PagerDuty refused the routing key (HTTP 400): check the key.",
    }


def test_no_key_and_an_unreachable_vendor(org: Any, fake_pd: FakePagerDuty) -> None:
    configure(org.admin, fake_pd, routing_key=None, api_token=None)
    assert _check(org.admin) == {"ok": False, "message": "No integration (routing) key is set."}
    configure(org.admin, fake_pd, base_url="https://127.0.0.1:9", api_token=None)
    found = _check(org.admin)
    assert found["ok"] is False and "could not be reached" in found["message"], found
