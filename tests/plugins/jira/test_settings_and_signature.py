"""Settings model and X-Hub-Signature checks against the recorded signed requests."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from plugins.jira.settings import JiraSettings
from plugins.jira.signature import verify
from tests.plugins.jira.fake_jira import fixture


def test_settings_defaults() -> None:
    s = JiraSettings()
    assert s.issue_type == "Task"
    assert s.status_map["Done"] == "Resolved"
    assert s.priority_map["Critical"] == "Highest"
    assert s.comment_marker == "#jira"


@pytest.mark.parametrize(
    "values",
    [
        {"project_key": 'TES" OR project = "X'},
        {"status_map": {"Done": "Finished"}},
        {"priority_map": {"Urgent": "Highest"}},
        {"server": "jira.example.com"},
    ],
)
def test_settings_reject_bad_values(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        JiraSettings(**values)


@pytest.mark.parametrize(
    "name, ok",
    [
        ("01_issue_created_valid.json", True),
        ("02_comment_created_valid.json", True),
        ("03_comment_created_redelivery.json", True),
        ("04_bad_signature.json", False),
    ],
)
def test_recorded_signatures(name: str, ok: bool) -> None:
    doc = fixture(f"signed_requests/{name}")
    body = doc["raw_body"].encode()
    assert verify(doc["secret"], body, doc["headers"]["X-Hub-Signature"]) is ok


def test_signature_needs_sha256_secret_and_exact_body() -> None:
    doc = fixture("signed_requests/01_issue_created_valid.json")
    body, header = doc["raw_body"].encode(), doc["headers"]["X-Hub-Signature"]
    assert not verify("", body, header)
    assert not verify(doc["secret"], body + b"\n", header)
    assert not verify(doc["secret"], body, header.replace("sha256=", "sha1="))
    assert not verify(doc["secret"], body, None)
