"""Concurrent edits of a ticket: GET gives an ETag, PATCH with a stale If-Match is a 412."""

from __future__ import annotations

T = "/api/v1/support/tickets"


def _ticket(org) -> int:  # type: ignore[no-untyped-def]
    r = org.end_user.post(
        f"{T}/",
        json={"subject": "VPN drops", "description": "every hour", "category": "Technical Issue"},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_stale_if_match_is_412_and_changes_nothing(org) -> None:  # type: ignore[no-untyped-def]
    tid = _ticket(org)
    first = org.agent.get(f"{T}/{tid}/")
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert org.admin.get(f"{T}/{tid}/").headers["etag"] == etag  # same version, same tag
    # Agent A changes the priority with the version it read.
    a = org.agent.client.patch(
        f"{T}/{tid}/", json={"priority": "High"}, headers={**org.agent.headers, "If-Match": etag}
    )
    assert a.status_code == 200, a.text
    assert a.headers["etag"] != etag
    assert a.headers["etag"] == org.agent.get(f"{T}/{tid}/").headers["etag"]
    # Agent B still holds the first version: refused with a message, nothing overwritten.
    b = org.admin.client.patch(
        f"{T}/{tid}/", json={"priority": "Low"}, headers={**org.admin.headers, "If-Match": etag}
    )
    assert b.status_code == 412, b.text
    assert "changed since you read it" in b.json()["detail"]
    assert org.agent.get(f"{T}/{tid}/").json()["priority"] == "High"
    # With the current tag (or "*") it applies; without If-Match the last writer wins as before.
    current = org.admin.get(f"{T}/{tid}/").headers["etag"]
    ok = org.admin.client.patch(
        f"{T}/{tid}/",
        json={"priority": "Low"},
        headers={**org.admin.headers, "If-Match": f'"nope", {current}'},
    )
    assert ok.status_code == 200, ok.text
    star = org.admin.client.patch(
        f"{T}/{tid}/", json={"priority": "Medium"}, headers={**org.admin.headers, "If-Match": "*"}
    )
    assert star.status_code == 200
    plain = org.agent.patch(f"{T}/{tid}/", json={"priority": "Critical"})
    assert plain.status_code == 200 and plain.json()["priority"] == "Critical"


def test_any_change_gives_a_new_etag(org) -> None:  # type: ignore[no-untyped-def]
    tid = _ticket(org)
    seen = {org.agent.get(f"{T}/{tid}/").headers["etag"]}
    for change in (
        {"status": "In Progress"},
        {"assigned_to": org.agent.user_id},
        {"category": "Access"},
    ):
        r = org.agent.patch(f"{T}/{tid}/", json=change)
        assert r.status_code == 200, r.text
        seen.add(org.agent.get(f"{T}/{tid}/").headers["etag"])
    assert len(seen) == 4
