"""Likely duplicates in the console over HTTP: the queue's "Has possible duplicate" filter, the
ticket page's flag fragment for staff and managers (buttons for staff only), none for end users."""

from __future__ import annotations

import re

from hub import outbox


def _open(member, subject: str, body: str) -> int:  # type: ignore[no-untyped-def]
    r = member.post(
        "/api/v1/support/tickets/",
        json={"subject": subject, "description": body, "category": "Technical Issue"},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_queue_filter_and_fragment_by_role(hub, web_org, signed_in) -> None:  # type: ignore[no-untyped-def]
    user = web_org["end_user"]
    first = _open(user, "VPN drops every hour", "My VPN drops every hour, gateway disconnected.")
    second = _open(user, "vpn keeps dropping", "vpn drops every hour again, gateway disconnected")
    lone = _open(user, "Request a second monitor", "Could I get a second monitor?")
    outbox.drain(hub)

    agent = signed_in(web_org["agent"])
    page = agent.page("/queue?dup=yes")
    shown = {int(n) for n in re.findall(r'href="/tickets/(\d+)"', page)}
    assert shown == {first, second}
    assert 'value="yes" selected' in page
    assert lone in {int(n) for n in re.findall(r'href="/tickets/(\d+)"', agent.page("/queue"))}

    assert 'id="ticket-duplicates"' in agent.page(f"/tickets/{second}")
    fragment = agent.page(f"/tickets/{second}/duplicates")
    assert "Possible duplicate of" in fragment and f"#{first} VPN drops every hour" in fragment
    assert f"Merge into #{first}" in fragment and "Dismiss" in fragment
    assert agent.page(f"/tickets/{lone}/duplicates").strip() == ""

    manager = signed_in(web_org["manager"])
    seen = manager.page(f"/tickets/{first}/duplicates")
    assert f"#{second} vpn keeps dropping" in seen and "Merge into" not in seen

    requester = signed_in(user)
    assert 'id="ticket-duplicates"' not in requester.page(f"/tickets/{first}")
    assert requester.client.get(f"/tickets/{first}/duplicates").status_code == 403
