"""Settings model and v3 signature checks against the recorded fixtures."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from plugins.pagerduty.settings import PagerDutySettings
from plugins.pagerduty.signature import signatures, verify
from tests.plugins.pagerduty.fake_pagerduty import fixture


def test_settings_defaults() -> None:
    s = PagerDutySettings()
    assert s.priorities == ["Critical"]
    assert s.severity == "critical"
    assert s.base_url == "https://events.pagerduty.com"
    assert s.routing_key is None and s.ca_bundle is None


@pytest.mark.parametrize(
    "values",
    [
        {"priorities": ["Urgent"]},
        {"severity": "fatal"},
        {"base_url": "http://events.pagerduty.com"},
        {"ca_bundle": "/nonexistent/ca.pem"},
    ],
)
def test_settings_reject_bad_values(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PagerDutySettings(**values)


@pytest.mark.parametrize(
    "name, ok",
    [
        ("incident.priority_updated.signed_valid.json", True),
        ("incident.priority_updated.signed_rotation.json", True),
        ("incident.priority_updated.signed_mismatch.json", False),
    ],
)
def test_recorded_signatures(name: str, ok: bool) -> None:
    doc = fixture(f"webhooks_v3/{name}")
    body = doc["raw_body"].encode()
    assert verify(doc["secret"], body, doc["headers"]["X-PagerDuty-Signature"]) is ok


def test_signature_needs_secret_and_exact_body() -> None:
    doc = fixture("webhooks_v3/incident.priority_updated.signed_valid.json")
    header = doc["headers"]["X-PagerDuty-Signature"]
    assert not verify("", doc["raw_body"].encode(), header)
    assert not verify(doc["secret"], doc["raw_body"].encode() + b" ", header)
    assert not verify(doc["secret"], doc["raw_body"].encode(), None)


def test_rotation_header_lists_every_signature() -> None:
    assert signatures("v1=AA, v1=bb,v0=cc") == ["aa", "bb"]
