"""After a merge, ``merged_from`` shows an end user only the merged tickets they could see."""

from __future__ import annotations

from tests.conftest import TenantSet

T = "/api/v1/support/tickets/"


def _open(member, subject: str, text: str) -> int:  # type: ignore[no-untyped-def]
    r = member.post(T, json={"subject": subject, "description": text, "category": "Other"})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_merged_from_hides_another_requesters_thread(org: TenantSet, make_member) -> None:  # type: ignore[no-untyped-def]
    other = make_member(org.tenant, "end_user")
    mine_old = _open(org.end_user, "VPN down", "my earlier ticket")
    theirs = _open(other, "VPN down too", "their private thread: salary spreadsheet")
    target = _open(org.end_user, "VPN still down", "my ticket")
    for src in (theirs, mine_old):
        r = org.agent.post(f"{T}{src}/merge/", json={"target_id": target})
        assert r.status_code == 200, r.text
    # Staff see both merged threads.
    staff_view = org.agent.get(f"{T}{target}/").json()
    assert sorted(m["id"] for m in staff_view["merged_from"]) == sorted([theirs, mine_old])
    # The requester of the target sees their own merged ticket, never the other requester's.
    mine = org.end_user.get(f"{T}{target}/")
    assert mine.status_code == 200
    assert [m["id"] for m in mine.json()["merged_from"]] == [mine_old]
    assert "salary" not in mine.text and "VPN down too" not in mine.text
