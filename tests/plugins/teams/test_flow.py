"""End to end: Teams intake, acknowledgements, replies and status cards back into Teams."""

from __future__ import annotations

from typing import Any

from tests.plugins.teams.conftest import TRIAGE, TeamsWorld, fixture

PERSONAL = "a:1personal-conversation-id"  # the personal-chat fixtures' conversation


def open_by_chat(world: TeamsWorld) -> dict[str, Any]:
    """The personal-chat fixture to the bot; returns the ticket, outbox delivered."""
    r = world.send(world.activity("message.personal_chat"))
    assert r.status_code == 200, r.text
    world.drain()
    tickets = world.tickets()
    assert len(tickets) == 1
    return tickets[0]


def texts(world: TeamsWorld, conversation: str) -> list[str]:
    return [c.text() for c in world.fake.sent_to(conversation)]


def test_personal_chat_opens_ticket_and_bot_acknowledges(world: TeamsWorld) -> None:
    ticket = open_by_chat(world)
    assert ticket["channel"] == "teams"
    assert ticket["subject"] == "My VPN drops every 10 minutes"
    # The requester was found/created by the email the Bot Connector's member profile gives.
    members = world.org.admin.get("/api/v1/admin/members/").json()
    alice = next(m for m in members if m["email"] == "alice@example.org")
    assert alice["role"] == "end_user"
    assert world.ticket(ticket["id"])["created_by"] == alice["id"]
    # The acknowledgement went to the personal chat with the number and link, by a bot token
    # obtained with the tenant's client credentials.
    ack = world.fake.sent_to(PERSONAL)
    assert len(ack) == 1
    assert f"#{ticket['id']}" in ack[0].text()
    assert f"http://hub.test/tickets/{ticket['id']}" in ack[0].text()
    assert ack[0].body["type"] == "message"
    token_calls = world.fake.of("token")
    assert token_calls and token_calls[0].body["client_id"] == "helpdesk-bot-app-id"
    assert token_calls[0].body["scope"] == "https://api.botframework.com/.default"
    assert ack[0].auth == "Bearer bot-token-1"
    # The triage card (an Adaptive Card with the agents' actions) is in the triage conversation.
    card = world.fake.sent_to(TRIAGE)
    assert len(card) == 1
    content = card[0].body["attachments"][0]
    assert content["contentType"] == "application/vnd.microsoft.card.adaptive"
    verbs = [a.get("verb") for a in content["content"]["actions"]]
    assert "assign_me" in verbs and "resolve" in verbs
    world.drain()  # nothing new: delivered once
    assert len(world.fake.of("send")) == 2


def test_agent_web_reply_reaches_the_chat_and_internal_note_does_not(world: TeamsWorld) -> None:
    ticket = open_by_chat(world)
    r = world.org.agent.post(
        f"/api/v1/support/tickets/{ticket['id']}/comment/",
        json={"comment": "Please update your VPN client to 5.2."},
    )
    assert r.status_code == 201, r.text
    secret = "Internal: customer is on the legacy VPN cluster, do not promise dates"
    r = world.org.agent.post(
        f"/api/v1/support/tickets/{ticket['id']}/comment/",
        json={"comment": secret, "is_internal": True},
    )
    assert r.status_code == 201, r.text
    world.drain()
    posted = texts(world, PERSONAL)
    assert len(posted) == 2
    assert "Please update your VPN client to 5.2." in posted[1]
    for call in world.fake.of("send") + world.fake.of("update"):
        assert "legacy VPN" not in call.text()
    world.drain()
    assert len(texts(world, PERSONAL)) == 2
    # The token was cached: one token request for all those posts.
    assert len(world.fake.of("token")) == 1


def test_follow_up_in_chat_is_a_comment_and_same_activity_twice_is_one(world: TeamsWorld) -> None:
    ticket = open_by_chat(world)
    again = world.send(world.activity("message.personal_chat"))  # the same activity id again
    assert again.status_code == 200
    follow = world.activity(
        "message.personal_chat", id="1772442000100", text="It happened again just now"
    )
    assert world.send(follow).status_code == 200
    assert world.send(follow).status_code == 200
    world.drain()
    assert len(world.tickets()) == 1
    comments = [c["comment"] for c in world.comments(ticket["id"])]
    assert comments.count("It happened again just now") == 1
    # The requester's own words are not echoed back into the chat.
    assert len(texts(world, PERSONAL)) == 1


def test_reply_to_the_ack_threads_and_resolved_ticket_ends_the_chat_thread(
    world: TeamsWorld,
) -> None:
    ticket = open_by_chat(world)
    ack = world.fake.sent_to(PERSONAL)[0]
    r = world.org.agent.patch(
        f"/api/v1/support/tickets/{ticket['id']}/", json={"status": "Resolved"}
    )
    assert r.status_code == 200, r.text
    world.drain()
    # The status change went to the chat as an Adaptive Card.
    status = world.fake.sent_to(PERSONAL)[-1]
    card = status.body["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and "resolved" in status.text().lower()
    # The triage card was updated in place (PUT on the card's activity).
    updates = world.fake.of("update")
    assert updates and updates[-1].conversation == TRIAGE and "Resolved" in updates[-1].text()
    # A new message in the chat now opens a new ticket...
    fresh = world.activity("message.personal_chat", id="1772442000200", text="Printer is jammed")
    assert world.send(fresh).status_code == 200
    assert len(world.tickets()) == 2
    # ...while a reply to the first ticket's acknowledgement continues that one.
    reply = world.activity(
        "message.personal_chat",
        id="1772442000300",
        text="Not fixed after all",
        replyToId=ack.answer["id"],
    )
    assert world.send(reply).status_code == 200
    assert len(world.tickets()) == 2
    assert "Not fixed after all" in [c["comment"] for c in world.comments(ticket["id"])]


def test_message_from_the_bot_itself_opens_nothing(world: TeamsWorld) -> None:
    r = world.send(world.activity("message.from_bot_itself"))
    assert r.status_code == 200
    world.drain()
    assert world.tickets() == []
    assert world.fake.of("send") == []


def test_unknown_email_gets_a_placeholder_and_a_note(world: TeamsWorld) -> None:
    act = world.activity("message.personal_chat")
    act["from"] = {
        "id": "29:nobody",
        "name": "Nobody",
        "aadObjectId": "44444444-4444-4444-8444-444444444444",
    }
    assert world.send(act).status_code == 200
    ticket = world.tickets()[0]
    members = world.org.admin.get("/api/v1/admin/members/").json()
    placeholder = (
        "teams-44444444-4444-4444-8444-444444444444"
        "@00000000-0000-4000-8000-00000000ten7.teams.invalid"
    )
    assert any(m["email"] == placeholder for m in members)
    notes = [c for c in world.comments(ticket["id"]) if c["is_internal"]]
    assert len(notes) == 1 and placeholder in notes[0]["comment"]


def test_conversation_update_stores_the_conversation(world: TeamsWorld) -> None:
    act = world.activity("conversationUpdate.bot_installed_in_team")
    assert world.send(act).status_code == 200
    state = world.hub.config(world.org.agent.tenant_id, "teams").state
    stored = state["conversation:19:general@thread.tacv2"]
    assert stored["service_url"] == world.fake.service_url
    assert stored["team_name"] == "IT Support" and stored["installed"] is True


def test_channel_mention_opens_ticket_and_thread_reply_is_a_comment(world: TeamsWorld) -> None:
    act = world.activity(
        "message.channel_reply_with_mention",
        recipient={"id": "28:helpdesk-bot-app-id", "name": "Helpdesk"},
    )
    world.fake.members[act["from"]["id"]] = {
        "id": act["from"]["id"],
        "name": "rido",
        "email": "rido@example.org",
    }
    assert world.send(act).status_code == 200
    ticket = world.tickets()[0]
    assert ticket["subject"] == "reply to thread"  # the <at> mention is not part of the text
    reply = world.activity(
        "message.channel_reply_with_mention",
        id="1759944790000",
        text="<at>ridotest</at> any news?",
        recipient={"id": "28:helpdesk-bot-app-id", "name": "Helpdesk"},
    )
    assert world.send(reply).status_code == 200
    assert len(world.tickets()) == 1
    assert "any news?" in [c["comment"] for c in world.comments(ticket["id"])]
    # A bystander @mentioning the bot in that thread adds nothing and opens nothing.
    bystander = world.activity(
        "message.channel_reply_with_mention",
        id="1759944790001",
        text="<at>ridotest</at> me too?",
        recipient={"id": "28:helpdesk-bot-app-id", "name": "Helpdesk"},
    )
    bystander["from"] = fixture("bot_framework/message.personal_chat.json")["from"]  # Alice
    assert world.send(bystander).status_code == 200
    assert len(world.tickets()) == 1
    assert "me too?" not in [c["comment"] for c in world.comments(ticket["id"])]


def test_card_action_by_agent_assigns_and_resolves(world: TeamsWorld) -> None:
    ticket = open_by_chat(world)
    invoke = world.activity(
        "invoke.adaptiveCard_action.personal",
        recipient={"id": "28:helpdesk-bot-app-id", "name": "Helpdesk"},
    )
    invoke["value"]["action"] = {
        "type": "Action.Execute",
        "title": "Assign to me",
        "verb": "assign_me",
        "data": {"ticket": ticket["id"]},
    }
    r = world.send(invoke)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert world.org.agent.email in str(body["value"])
    assert world.ticket(ticket["id"])["assigned_to"] == world.org.agent.user_id
    # The same invoke again changes nothing and still answers with the card.
    r = world.send(invoke)
    assert r.status_code == 200 and r.json()["type"] == "application/vnd.microsoft.card.adaptive"
    resolve = world.activity(
        "invoke.adaptiveCard_action.personal",
        id="f:resolve-1",
        recipient={"id": "28:helpdesk-bot-app-id", "name": "Helpdesk"},
    )
    resolve["value"]["action"] = {
        "type": "Action.Execute",
        "verb": "resolve",
        "data": {"ticket": ticket["id"]},
    }
    r = world.send(resolve)
    assert r.status_code == 200, r.text
    assert world.ticket(ticket["id"])["status"] == "Resolved"
    assert "Resolve" not in [a.get("title") for a in r.json()["value"].get("actions", [])]
    # The requester hears of the resolution in their chat, as an Adaptive Card.
    world.drain()
    last = world.fake.sent_to(PERSONAL)[-1]
    assert last.body["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert f"Ticket #{ticket['id']} is resolved" in last.text()


def test_card_action_by_non_agent_is_refused(world: TeamsWorld) -> None:
    ticket = open_by_chat(world)
    invoke = world.activity(
        "invoke.adaptiveCard_action.personal",
        recipient={"id": "28:helpdesk-bot-app-id", "name": "Helpdesk"},
    )
    invoke["from"] = fixture("bot_framework/message.personal_chat.json")["from"]  # Alice
    invoke["value"]["action"] = {
        "type": "Action.Execute",
        "verb": "resolve",
        "data": {"ticket": ticket["id"]},
    }
    r = world.send(invoke)
    assert r.status_code == 200
    assert r.json()["type"] == "application/vnd.microsoft.activity.message"
    assert "agents" in r.json()["value"]
    assert world.ticket(ticket["id"])["status"] != "Resolved"


def test_agent_in_triage_thread_writes_internal_note_never_a_ticket(world: TeamsWorld) -> None:
    ticket = open_by_chat(world)
    card = world.fake.sent_to(TRIAGE)[0]
    thread = f"{TRIAGE};messageid={card.answer['id']}"
    agent = fixture("bot_framework/invoke.adaptiveCard_action.personal.json")["from"]
    note = world.activity(
        "message.channel_reply_with_mention",
        id="1759944800000",
        text="<at>Helpdesk</at> checked the VPN logs: legacy cluster",
        recipient={"id": "28:helpdesk-bot-app-id", "name": "Helpdesk"},
    )
    note["from"] = agent
    note["conversation"] = {
        "id": thread,
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": "00000000-0000-4000-8000-00000000ten7",
    }
    assert world.send(note).status_code == 200
    bystander = dict(
        note,
        id="1759944800001",
        text="<at>Helpdesk</at> what is this?",
        **{"from": fixture("bot_framework/message.personal_chat.json")["from"]},
    )
    assert world.send(bystander).status_code == 200
    world.drain()
    assert len(world.tickets()) == 1
    notes = [
        c
        for c in world.comments(ticket["id"])
        if c["comment"] == "checked the VPN logs: legacy cluster"
    ]
    assert len(notes) == 1 and notes[0]["is_internal"] is True
    assert "what is this?" not in [c["comment"] for c in world.comments(ticket["id"])]
    for call in world.fake.of("send"):
        assert "legacy cluster" not in call.text()


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_files_in_a_personal_chat_are_attached(world: TeamsWorld) -> None:
    world.fake.files["/files/report.txt"] = b"VPN log: dropped at 10:02\n"
    world.fake.files["/svc/v3/attachments/img-1/views/original"] = PNG
    act = world.activity("message.personal_chat")
    act["attachments"] = [
        {
            "contentType": "application/vnd.microsoft.teams.file.download.info",
            "name": "report.txt",
            "content": {
                "downloadUrl": f"{world.fake.root}/files/report.txt",
                "fileType": "txt",
                "uniqueId": "u-1",
            },
        },
        {
            "contentType": "image/png",
            "contentUrl": f"{world.fake.root}/svc/v3/attachments/img-1/views/original",
        },
        {
            "contentType": "application/vnd.microsoft.teams.file.download.info",
            "name": "evil.txt",
            "content": {"downloadUrl": "http://203.0.113.9/files/evil.txt"},
        },
        {"contentType": "text/html", "content": "<p>My VPN drops every 10 minutes</p>"},
    ]
    assert world.send(act).status_code == 200
    assert world.send(act).status_code == 200  # again: stored once, files not fetched again
    ticket = world.tickets()[0]
    r = world.org.agent.get(f"/api/v1/support/tickets/{ticket['id']}/attachments/")
    assert r.status_code == 200, r.text
    names = sorted(a["file_name"] for a in r.json())
    assert names == ["image-2.png", "report.txt"]
    # The image was fetched with the bot token; the shared file without; the foreign host never.
    downloads = world.fake.of("download")
    assert len(downloads) == 2
    assert {d.path: bool(d.auth) for d in downloads} == {
        "/files/report.txt": False,
        "/svc/v3/attachments/img-1/views/original": True,
    }
    assert "evil.txt: not on a Teams file host" in world.ticket(ticket["id"])["description"]


def test_activity_without_an_id_is_stored_once_by_its_content(world: TeamsWorld) -> None:
    """Some connectors send a message activity without ``id``: it opens its ticket (deduplicated
    by a hash of its content), and the same content delivered again is not a second ticket."""
    activity = world.activity("message.personal_chat")
    del activity["id"]
    r = world.send(activity)
    assert r.status_code == 200, r.text
    world.drain()
    [ticket] = world.tickets()
    assert ticket["subject"] == "My VPN drops every 10 minutes"
    assert world.send(activity).status_code == 200
    world.drain()
    assert len(world.tickets()) == 1
    assert world.comments(ticket["id"]) == []  # the redelivery added nothing


def test_a_person_who_chatted_with_the_bot_gets_notices_there(world: TeamsWorld) -> None:
    """``hub_notify_person``: the matrix's chat DM goes to the person's 1:1 chat with the bot
    (learnt from their message), once per event; someone who never chatted gets nothing."""
    from core.api import Person, PersonNotice
    from core.services.snapshots import ticket_snapshot

    ticket = open_by_chat(world)
    tenant = world.org.tenant[0]
    with world.hub.session() as s:
        snap = ticket_snapshot(s, tenant, ticket["id"], f"http://hub.test/tickets/{ticket['id']}")
    alice = Person(id=ticket["created_by"], email="alice@example.org", name="Alice", role="agent")
    notice = PersonNotice(
        event_id=999,
        tenant_id=tenant,
        kind="assigned",
        channel="chat",
        person=alice,
        ticket=snap,
        subject=f"#{ticket['id']} was assigned to you",
        text=f"#{ticket['id']} was assigned to you.",
        url=snap.url if snap else "",
    )
    before = len(world.fake.sent_to(PERSONAL))
    assert world.hub.hooks(tenant).hub_notify_person(notice=notice, hub=world.hub) is True
    sent = world.fake.sent_to(PERSONAL)[before:]
    assert [c.body["text"] for c in sent] == [f"#{ticket['id']} was assigned to you."]
    assert world.hub.hooks(tenant).hub_notify_person(notice=notice, hub=world.hub) is True
    assert len(world.fake.sent_to(PERSONAL)) == before + 1  # a retry sends nothing twice
    stranger = PersonNotice(
        **{**notice.__dict__, "person": Person(id=1, email="bo@example.org", name="Bo")}
    )
    assert world.hub.hooks(tenant).hub_notify_person(notice=stranger, hub=world.hub) is None


def test_the_resolution_card_asks_the_requester_for_a_rating(world: TeamsWorld) -> None:
    """Teams prompts as the resolution mail does: 1 to 5 on the requester's card; the choice is
    recorded once and the card says thanks; an agent's click is not a rating."""
    ticket = open_by_chat(world)
    r = world.org.agent.patch(
        f"/api/v1/support/tickets/{ticket['id']}/", json={"status": "Resolved"}
    )
    assert r.status_code == 200, r.text
    world.drain()
    card = world.fake.sent_to(PERSONAL)[-1].body["attachments"][0]["content"]
    rate = [a for a in card["actions"] if a.get("verb") == "rate"]
    assert [a["data"]["rating"] for a in rate] == [1, 2, 3, 4, 5]

    def click(rating: object, sender: dict[str, Any] | None, id: str) -> Any:
        invoke = world.activity(
            "invoke.adaptiveCard_action.personal",
            id=id,
            recipient={"id": "28:helpdesk-bot-app-id", "name": "Helpdesk"},
        )
        if sender is not None:
            invoke["from"] = sender
        invoke["value"]["action"] = {
            "type": "Action.Execute",
            "verb": "rate",
            "data": {"ticket": ticket["id"], "rating": rating},
        }
        return world.send(invoke)

    alice = fixture("bot_framework/message.personal_chat.json")["from"]
    r = click(4, None, "f:rate-agent")  # the fixture's sender is the agent
    assert r.json()["type"] == "application/vnd.microsoft.activity.message"
    assert "requester" in r.json()["value"]
    assert world.ticket(ticket["id"])["satisfaction_rating"] is None
    r = click(9, alice, "f:rate-bad")
    assert "1 to 5" in r.json()["value"]
    r = click(4, alice, "f:rate-1")
    assert r.status_code == 200 and r.json()["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Thanks for rating" in str(r.json()["value"])
    assert world.ticket(ticket["id"])["satisfaction_rating"] == 4
    again = click(4, alice, "f:rate-1")  # Teams retries the same invoke: recorded once
    assert again.json()["type"] == "application/vnd.microsoft.card.adaptive"
    audit = world.org.agent.get(f"/api/v1/support/tickets/{ticket['id']}/audit/").json()
    assert [a["new_value"] for a in audit if a["action"] == "CSAT"] == ["4"]
