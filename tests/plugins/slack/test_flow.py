"""End to end: Slack intake, the triage thread, and updates back into Slack threads."""

from __future__ import annotations

import json
from typing import Any

from tests.plugins.slack.conftest import (
    AGENT_SLACK,
    REQUESTER_SLACK,
    TEAM,
    TRIAGE,
    SlackWorld,
    channel_message,
    dm,
    fixture,
)

ROOT_TS = "1726133700.000100"


def open_by_dm(world: SlackWorld, text: str = "My VPN drops every 10 minutes") -> dict[str, Any]:
    """A top-level DM to the bot; returns the ticket, with the triage card posted."""
    assert world.event(dm(text, ROOT_TS), "EvDM1").status_code == 200
    world.drain()
    tickets = world.tickets()
    assert len(tickets) == 1
    return tickets[0]


def _posted_ts(world: SlackWorld, channel: str) -> str:
    """The ts the fake gave the first message posted to a channel (top level)."""
    posts = [
        c
        for c in world.fake.of("chat.postMessage")
        if c.params.get("channel") == channel and not c.params.get("thread_ts")
    ]
    assert posts
    return str(posts[0].answer["ts"])


def thread_posts(world: SlackWorld, channel: str, thread_ts: str) -> list[str]:
    return [
        c.text() for c in world.fake.posts_to(channel) if c.params.get("thread_ts") == thread_ts
    ]


def test_dm_opens_ticket_and_agent_web_reply_reaches_the_thread(world: SlackWorld) -> None:
    ticket = open_by_dm(world)
    assert ticket["channel"] == "slack"
    assert ticket["subject"] == "My VPN drops every 10 minutes"
    # The requester's account was found/created by their Slack email.
    members = world.org.admin.get("/api/v1/admin/members/").json()
    requester = next(m for m in members if m["email"] == world.requester_email)
    assert requester["role"] == "end_user"
    assert world.ticket(ticket["id"])["created_by"] == requester["id"]
    info = [c for c in world.fake.of("users.info") if c.params.get("user") == REQUESTER_SLACK]
    assert len(info) == 1
    # The bot answered in the DM thread with number, link and a button.
    answer = thread_posts(world, "D111", ROOT_TS)
    assert len(answer) == 1
    assert f"#{ticket['id']}" in answer[0]
    assert f"http://hub.test/tickets/{ticket['id']}" in answer[0]
    assert '"type": "button"' in answer[0]
    # The triage card is in the triage channel with the agents' buttons.
    card = world.fake.posts_to(TRIAGE)
    assert len(card) == 1
    for action in ("hub_assign_me", "hub_priority", "hub_status", "hub_resolve"):
        assert action in card[0].text()

    r = world.org.agent.post(
        f"/api/v1/support/tickets/{ticket['id']}/comment/",
        json={"comment": "Please update your VPN client to 5.2."},
    )
    assert r.status_code == 201, r.text
    world.drain()
    posted = thread_posts(world, "D111", ROOT_TS)
    assert len(posted) == 2
    assert "Please update your VPN client to 5.2." in posted[1]
    world.drain()  # nothing new: delivered once
    assert len(thread_posts(world, "D111", ROOT_TS)) == 2


def test_requester_follow_up_in_thread_is_one_public_comment(world: SlackWorld) -> None:
    ticket = open_by_dm(world)
    follow = dm("It happened again just now", "1726133800.000200", thread_ts=ROOT_TS)
    assert world.event(follow, "EvDM2").status_code == 200
    assert world.event(follow, "EvDM2", retry=1).status_code == 200  # Slack's retry
    world.drain()
    comments = world.comments(ticket["id"], world.org.agent)
    texts = [c["comment"] for c in comments]
    assert texts.count("It happened again just now") == 1
    assert comments[-1]["is_internal"] is False
    # Not echoed back into the requester's own thread, but shown to agents in triage.
    assert len(thread_posts(world, "D111", ROOT_TS)) == 1
    triage_thread = thread_posts(world, TRIAGE, _posted_ts(world, TRIAGE))
    assert any("It happened again just now" in t for t in triage_thread)


def test_internal_note_in_triage_thread_never_reaches_the_requester(world: SlackWorld) -> None:
    ticket = open_by_dm(world)
    card_ts = _posted_ts(world, TRIAGE)
    secret = "Internal: this customer is on the legacy VPN cluster, do not promise dates"
    note = channel_message(
        secret, "1726133900.000300", user=AGENT_SLACK, channel=TRIAGE, thread_ts=card_ts
    )
    assert world.event(note, "EvNote1").status_code == 200
    assert world.event(note, "EvNote1", retry=1).status_code == 200
    # A bystander (not an agent) in the triage thread adds nothing and opens nothing.
    chatter = channel_message(
        "what is this?",
        "1726133901.000300",
        user=REQUESTER_SLACK,
        channel=TRIAGE,
        thread_ts=card_ts,
    )
    assert world.event(chatter, "EvNote2").status_code == 200
    world.drain()
    staff_view = world.comments(ticket["id"], world.org.agent)
    notes = [c for c in staff_view if c["comment"] == secret]
    assert len(notes) == 1 and notes[0]["is_internal"] is True
    assert len(world.tickets()) == 1
    # Nothing of it reached the requester's thread or any DM; the requester's API view hides it.
    for call in world.fake.of("chat.postMessage") + world.fake.of("chat.update"):
        if call.params.get("channel") != TRIAGE:
            assert "legacy VPN" not in call.text()
    assert not [c for c in world.fake.posts_to(TRIAGE) if "legacy VPN" in c.text()]
    # Also a web internal note: shown in triage (agents only), never in the requester's thread.
    r = world.org.agent.post(
        f"/api/v1/support/tickets/{ticket['id']}/comment/",
        json={"comment": "web note: escalate to network team", "is_internal": True},
    )
    assert r.status_code == 201, r.text
    world.drain()
    assert not [t for t in thread_posts(world, "D111", ROOT_TS) if "web note" in t]
    assert [t for t in thread_posts(world, TRIAGE, card_ts) if "web note" in t]


def test_send_to_requester_and_reply_command_relay_publicly(world: SlackWorld) -> None:
    ticket = open_by_dm(world)
    card_ts = _posted_ts(world, TRIAGE)
    # "Send to requester" on an agent's message in the triage thread (message_action fixture).
    action = fixture("interactive/message_action.json")
    action["callback_id"] = "hub_send_to_requester"
    action["user"] = {"id": AGENT_SLACK, "name": "alex"}
    action["channel"] = {"id": TRIAGE, "name": "triage"}
    action["message"].update(
        text="Fixed on our side, please reconnect.",
        user=AGENT_SLACK,
        ts="1726134000.000400",
        thread_ts=card_ts,
    )
    action["message_ts"] = "1726134000.000400"
    assert world.interactive(action).status_code == 200
    assert world.interactive(action).status_code == 200  # clicked twice: sent once
    # /reply #<id> <text> (slash command fixture with our command).
    command = fixture("commands/slash_command.parsed.json")
    command.update(
        command="/reply",
        text=f"#{ticket['id']} Anything else we can do?",
        user_id=AGENT_SLACK,
        channel_id=TRIAGE,
    )
    from urllib.parse import urlencode

    r = world.send(urlencode(command), form=True)
    assert r.status_code == 200
    assert "Sending your reply" in r.text
    world.drain()
    posted = thread_posts(world, "D111", ROOT_TS)
    assert sum("Fixed on our side" in t for t in posted) == 1
    assert sum("Anything else we can do?" in t for t in posted) == 1
    comments = world.comments(ticket["id"])
    public = [c for c in comments if not c["is_internal"]]
    assert {c["comment"] for c in public} >= {
        "Fixed on our side, please reconnect.",
        "Anything else we can do?",
    }
    # A requester cannot use the relay.
    command.update(user_id=REQUESTER_SLACK, text=f"#{ticket['id']} sneaky", trigger_id="t2")
    world.send(urlencode(command), form=True)
    world.drain()
    assert not [c for c in world.comments(ticket["id"]) if c["comment"] == "sneaky"]
    assert world.fake.of("chat.postEphemeral")


def test_triage_buttons_update_ticket_and_card_and_resolve_prompts_csat(world: SlackWorld) -> None:
    ticket = open_by_dm(world)
    card_ts = _posted_ts(world, TRIAGE)

    def click(action_id: str, value: str, user: str = AGENT_SLACK) -> None:
        body = fixture("interactive/block_actions.json")
        body["user"] = {"id": user, "username": "x", "name": "x", "team_id": TEAM}
        body["container"] = {
            "type": "message",
            "message_ts": card_ts,
            "channel_id": TRIAGE,
            "is_ephemeral": False,
        }
        body["channel"] = {"id": TRIAGE, "name": "triage"}
        body["actions"][0].update(action_id=action_id, value=value)
        if action_id in ("hub_priority", "hub_status"):
            body["actions"][0].pop("value")
            body["actions"][0]["type"] = "static_select"
            body["actions"][0]["selected_option"] = {"value": value}
        assert world.interactive(body).status_code == 200
        world.wait()

    click("hub_assign_me", str(ticket["id"]), user=REQUESTER_SLACK)  # not an agent: refused
    assert world.ticket(ticket["id"])["assigned_to"] is None
    assert world.fake.of("chat.postEphemeral")

    click("hub_assign_me", str(ticket["id"]))
    click("hub_priority", f"{ticket['id']}:High")
    detail = world.ticket(ticket["id"])
    assert detail["assigned_to"] == world.org.agent.user_id
    assert detail["status"] == "Open"
    assert detail["priority"] == "High"
    updates = [c for c in world.fake.of("chat.update") if c.params.get("ts") == card_ts]
    assert updates and world.org.agent.email in updates[-1].text()
    assert "High" in updates[-1].text()
    world.drain()
    assert any("now *Open*" in t for t in thread_posts(world, "D111", ROOT_TS))

    click("hub_resolve", str(ticket["id"]))
    assert world.ticket(ticket["id"])["status"] == "Resolved"
    world.drain()
    last = thread_posts(world, "D111", ROOT_TS)[-1]
    assert "resolved" in last and "hub_csat_5" in last
    assert (
        "Resolved"
        in [c for c in world.fake.of("chat.update") if c.params.get("ts") == card_ts][-1].text()
    )
    # The requester rates from Slack.
    click("hub_csat_4", f"{ticket['id']}:4", user=REQUESTER_SLACK)
    r = world.org.agent.get(f"/api/v1/support/tickets/{ticket['id']}/")
    assert r.json()["satisfaction_rating"] == 4


def test_slash_ticket_opens_modal_and_submission_creates_ticket(world: SlackWorld) -> None:
    from urllib.parse import urlencode

    command = fixture("commands/slash_command.parsed.json")
    command.update(command="/ticket", text="Printer on fire", user_id=REQUESTER_SLACK)
    assert world.send(urlencode(command), form=True).status_code == 200
    world.wait()
    opened = world.fake.of("views.open")
    assert len(opened) == 1 and opened[0].params["trigger_id"] == command["trigger_id"]
    view = opened[0].params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert [b["block_id"] for b in view["blocks"]] == [
        "subject",
        "description",
        "category",
        "priority",
    ]

    submission = fixture("interactive/view_submission.json")
    submission["user"] = {
        "id": REQUESTER_SLACK,
        "username": "casey",
        "name": "casey",
        "team_id": TEAM,
    }
    submission["view"].update(
        callback_id="hub_new_ticket",
        blocks=view["blocks"],
        private_metadata=view["private_metadata"],
    )
    submission["view"]["state"] = {
        "values": {
            "subject": {"value": {"type": "plain_text_input", "value": "Printer on fire"}},
            "description": {"value": {"type": "plain_text_input", "value": "Smoke from tray 2"}},
            "category": {
                "value": {"type": "static_select", "selected_option": {"value": "Technical Issue"}}
            },
            "priority": {
                "value": {"type": "static_select", "selected_option": {"value": "Critical"}}
            },
        }
    }
    r = world.interactive(submission)
    assert r.status_code == 200 and r.text in ("", "null")
    world.interactive(submission)  # a double submit makes one ticket
    world.drain()
    tickets = world.tickets()
    assert len(tickets) == 1
    t = tickets[0]
    assert (t["subject"], t["category"], t["priority"]) == (
        "Printer on fire",
        "Technical Issue",
        "Critical",
    )
    dm_channel = "D" + REQUESTER_SLACK
    confirmation = [c for c in world.fake.posts_to(dm_channel) if not c.params.get("thread_ts")]
    assert len(confirmation) == 1 and f"#{t['id']}" in confirmation[0].text()
    # That DM is the ticket's thread: an agent's reply lands under it.
    world.org.agent.post(
        f"/api/v1/support/tickets/{t['id']}/comment/", json={"comment": "Evacuate, we are on it."}
    )
    world.drain()
    root = _posted_ts(world, dm_channel)
    assert any("Evacuate" in x for x in thread_posts(world, dm_channel, root))


def test_message_shortcut_creates_ticket_for_the_message_author(world: SlackWorld) -> None:
    action = fixture("interactive/message_action.json")
    action["callback_id"] = "hub_ticket_from_message"
    action["user"] = {"id": AGENT_SLACK, "name": "alex"}
    action["message"]["user"] = REQUESTER_SLACK
    action["message"]["text"] = "<@W111> the billing page shows last month's invoice"
    assert world.interactive(action).status_code == 200
    assert world.interactive(action).status_code == 200
    world.drain()
    tickets = world.tickets()
    assert len(tickets) == 1
    assert tickets[0]["subject"] == "the billing page shows last month's invoice"
    detail = world.ticket(tickets[0]["id"])
    assert detail["created_by"] != world.org.agent.user_id
    replies = [
        c
        for c in world.fake.posts_to("C111")
        if c.params.get("thread_ts") == action["message"]["ts"]
    ]
    assert len(replies) == 1
    assert "already ticket" in world.fake.of("chat.postEphemeral")[-1].params["text"]


def test_mention_in_channel_opens_ticket_and_thread_follow_ups(world: SlackWorld) -> None:
    body = fixture("events/event_callback.app_mention.json")
    assert world.send(body).status_code == 200
    world.wait()
    root = body["event"]["ts"]
    # The same message also arrives as a message event: not a second ticket.
    plain = channel_message(body["event"]["text"], root, user=REQUESTER_SLACK, channel="C111")
    assert world.event(plain, "EvPlain").status_code == 200
    # A reply in the thread by the requester is a comment; a bystander's is ignored.
    world.fake.add_user("U0BYSTANDER", "bystander@example.org", "Bee")
    follow = channel_message(
        "more details", "1595926300.000100", user=REQUESTER_SLACK, channel="C111", thread_ts=root
    )
    other = channel_message(
        "me too", "1595926301.000100", user="U0BYSTANDER", channel="C111", thread_ts=root
    )
    world.event(follow, "EvF1")
    world.event(other, "EvF2")
    world.drain()
    tickets = world.tickets()
    assert len(tickets) == 1
    texts = [c["comment"] for c in world.comments(tickets[0]["id"])]
    assert "more details" in texts and "me too" not in texts


def test_agents_get_a_dm_when_assigned_or_mentioned(world: SlackWorld) -> None:
    ticket = open_by_dm(world)
    r = world.org.admin.patch(
        f"/api/v1/support/tickets/{ticket['id']}/", json={"assigned_to": world.org.agent.user_id}
    )
    assert r.status_code == 200, r.text
    world.drain()
    agent_dm = "D" + AGENT_SLACK
    assert any("assigned to you" in c.text() for c in world.fake.posts_to(agent_dm))
    r = world.org.admin.post(
        f"/api/v1/support/tickets/{ticket['id']}/comment/",
        json={"comment": f"@{world.org.agent.email} can you check?", "is_internal": True},
    )
    assert r.status_code == 201, r.text
    world.drain()
    assert any("mentioned" in c.text() for c in world.fake.posts_to(agent_dm))
    # An agent assigning themselves gets no DM about it.
    before = len(world.fake.posts_to(agent_dm))
    world.org.agent.patch(f"/api/v1/support/tickets/{ticket['id']}/", json={"assigned_to": None})
    world.org.agent.patch(
        f"/api/v1/support/tickets/{ticket['id']}/", json={"assigned_to": world.org.agent.user_id}
    )
    world.drain()
    assert len(world.fake.posts_to(agent_dm)) == before


def test_notifications_are_idempotent_per_event(world: SlackWorld) -> None:
    from sqlalchemy import select

    from core.models import OutboxEvent
    from hub.snapshots import event_snapshot
    from plugins.slack.notify import notify

    ticket = open_by_dm(world)
    world.org.agent.post(
        f"/api/v1/support/tickets/{ticket['id']}/comment/", json={"comment": "Only once please"}
    )
    world.drain()
    with world.hub.session() as s:
        row = s.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.event_type == "comment.added")
            .order_by(OutboxEvent.id.desc())
        ).first()
        event = event_snapshot(s, row, world.hub.ticket_url)
    notify(event, world.hub)  # redelivered (at least once)
    assert sum("Only once please" in t for t in thread_posts(world, "D111", ROOT_TS)) == 1


def test_files_shared_in_a_dm_become_attachments(world: SlackWorld) -> None:
    import base64

    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    body = fixture("events/event_callback.message.file_share.json")
    event = body["event"]
    event.update(
        channel="D111", channel_type="im", user=REQUESTER_SLACK, text="Screenshot attached"
    )
    good = event["files"][0]
    good["url_private_download"] = f"{world.fake.root}/files/F111/download/file.png"
    good["size"] = len(png)
    world.fake.files["/files/F111/download/file.png"] = png
    evil = {
        **good,
        "id": "F222",
        "name": "evil.png",
        "url_private_download": "http://169.254.169.254/latest/meta-data",
    }
    event["files"] = [good, evil]
    assert world.send(body).status_code == 200
    world.drain()
    assert world.send(body, retry=1).status_code == 200  # a retry fetches nothing again
    world.drain()
    tickets = world.tickets()
    assert len(tickets) == 1
    r = world.org.agent.get(f"/api/v1/support/tickets/{tickets[0]['id']}/attachments/")
    assert r.status_code == 200, r.text
    names = [a.get("file_name") or a.get("filename") for a in r.json()]
    assert names == ["file.png"]
    downloads = world.fake.of("files.download")
    assert len(downloads) == 1 and downloads[0].token == "xoxb-fake-token"
    assert "evil.png: not on Slack's file host" in world.ticket(tickets[0]["id"])["description"]


def test_bot_joins_a_public_triage_channel_it_is_not_in(world: SlackWorld) -> None:
    world.fake.outside.add(TRIAGE)
    open_by_dm(world)
    assert [c.params["channel"] for c in world.fake.of("conversations.join")] == [TRIAGE]
    assert len(world.fake.posts_to(TRIAGE)) == 2  # refused, then posted after joining
    assert world.fake.posts_to(TRIAGE)[-1].answer["ok"] is True


def test_replies_are_escaped_and_bounded_in_slack(world: SlackWorld) -> None:
    ticket = open_by_dm(world)
    long = "Run `ls <dir> && echo ok` then reply. " + "x" * 5000
    world.org.agent.post(f"/api/v1/support/tickets/{ticket['id']}/comment/", json={"comment": long})
    world.drain()
    posted = [c for c in world.fake.posts_to("D111") if c.params.get("thread_ts") == ROOT_TS][-1]
    text = posted.params["text"]
    assert "ls &lt;dir&gt; &amp;&amp; echo ok" in text
    assert len(text) < 4000 and f"/tickets/{ticket['id']}|(read on)>" in text


def test_sla_breach_is_told_in_the_triage_thread(world: SlackWorld) -> None:
    from core.models import Ticket
    from core.permissions import system_actor
    from core.services import events

    ticket = open_by_dm(world)
    card_ts = _posted_ts(world, TRIAGE)
    # As the SLA sweep writes it: the flag and the event in one transaction.
    with world.hub.session() as s:
        row = s.get(Ticket, ticket["id"])
        row.sla_breached = True
        events.emit(
            s,
            system_actor(row.tenant_id),
            events.SLA_BREACHED,
            tenant_id=row.tenant_id,
            ticket_id=row.id,
            payload={
                "sla_target": "first_response",
                "due_at": "2026-11-26T12:00:00+00:00",
                "actor_id": None,
            },
        )
    world.drain()
    told = thread_posts(world, TRIAGE, card_ts)
    assert any("SLA first_response" in t and "breached" in t for t in told)
    assert not any("SLA" in t for t in thread_posts(world, "D111", ROOT_TS))
    card = [c for c in world.fake.of("chat.update") if c.params.get("ts") == card_ts][-1]
    assert "SLA breached" in card.text()
