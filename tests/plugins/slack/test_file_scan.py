"""A file shared on Slack is scanned by a REAL clamd like every other attachment: an infected
one is kept quarantined on the ticket (held, not downloadable), a clean one is served."""

from __future__ import annotations

from typing import Any

import pytest

from tests.plugins.slack.conftest import REQUESTER_SLACK, SlackWorld, fixture
from tests.private_clamd import BODY_MARK, BODY_SIGNATURE


def test_an_infected_slack_file_is_quarantined(
    world: SlackWorld, real_clamd: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        world.hub,
        "settings",
        world.hub.settings.model_copy(update={"clamd_socket": real_clamd.socket}),
    )
    body = fixture("events/event_callback.message.file_share.json")
    event = body["event"]
    event.update(channel="D111", channel_type="im", user=REQUESTER_SLACK, text="Logs attached")
    template = event["files"][0]
    files = []
    for fid, name, data in (("F301", "clean.txt", b"all fine\n"), ("F302", "bad.txt", BODY_MARK)):
        path = f"/files/{fid}/download/{name}"
        world.fake.files[path] = data
        files.append(
            {
                **template,
                "id": fid,
                "name": name,
                "mimetype": "text/plain",
                "filetype": "text",
                "size": len(data),
                "url_private_download": f"{world.fake.root}{path}",
            }
        )
    event["files"] = files
    assert world.send(body).status_code == 200
    world.drain()
    [ticket] = world.tickets()
    listed = world.org.agent.get(f"/api/v1/support/tickets/{ticket['id']}/attachments/").json()
    by_name = {a["file_name"]: a for a in listed}
    assert by_name["clean.txt"]["scan_status"] == "clean" and by_name["clean.txt"]["download_url"]
    bad = by_name["bad.txt"]
    assert bad["held"] == "infected" and bad["scan_signature"].startswith(BODY_SIGNATURE)
    r = world.org.admin.get(f"/api/v1/support/tickets/{ticket['id']}/attachments/{bad['id']}/")
    assert r.status_code == 403 and BODY_MARK not in r.content
