"""The web chat end to end over its real websocket and HTTP interface (Starlette TestClient)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import WebSocketDenialResponse

from core import clock
from core.models import KbDeflection, Ticket
from hub import outbox
from hub.context import Hub
from plugins.chatbot.models import ChatMessage


def ws_url(org: Any, session: str = "") -> str:
    url = f"/plugins/chatbot/ws?tenant={org.tenant[1]}"
    return url + (f"&session={session}" if session else "")


def until(ws: Any, kind: str = "message", role: str | None = None) -> dict[str, Any]:
    """The next frame of a kind (and role), skipping others; at most 20 frames."""
    for _ in range(20):
        frame = ws.receive_json()
        if frame["type"] == kind and (role is None or frame.get("role") == role):
            return frame
    raise AssertionError(f"no {kind} frame")


def say(ws: Any, text: str) -> dict[str, Any]:
    """Send a visitor message; return the bot's (or an error's) answer."""
    ws.send_json({"type": "message", "text": text})
    echo = ws.receive_json()
    if echo["type"] == "error":
        return echo
    assert echo["role"] == "user" and echo["text"] == text.strip()
    return until(ws, role="bot")


@contextmanager
def open_chat(client: Any, org: Any) -> Iterator[tuple[Any, str]]:
    """A new conversation, greeted; yields the socket and its resume token."""
    with client.websocket_connect(ws_url(org)) as ws:
        session = until(ws, "session")
        greeting = until(ws, role="bot")
        assert "help" in greeting["text"].lower()
        yield ws, session["token"]


def tickets(hub: Hub, tenant_id: Any) -> list[Ticket]:
    with hub.session() as s:
        rows = list(s.scalars(select(Ticket).where(Ticket.tenant_id == tenant_id)))
        s.expunge_all()
        return rows


def test_question_answered_by_an_article_opens_no_ticket(client, chat_org, hub) -> None:  # type: ignore[no-untyped-def]
    with open_chat(client, chat_org) as (ws, _):
        answer = say(ws, "I forgot my password and can't sign in")
        titles = [a["title"] for a in answer["articles"]]
        assert titles[0] == "Reset your password"
        first = answer["articles"][0]
        assert first["excerpt"] and "/plugins/chatbot/articles/" in first["url"]
        assert "Talk to a human" in answer["choices"]
        done = say(ws, "Yes, that solved it")
        assert "glad" in done["text"].lower()
    assert tickets(hub, chat_org.tenant[0]) == []
    with hub.session() as s:
        deflections = list(s.scalars(select(KbDeflection)))
        assert [(d.article_id, d.channel) for d in deflections] == [
            (chat_org.articles["Reset your password"], "chatbot")
        ]
    report = chat_org.manager.get("/api/v1/support/kb/deflections/").json()
    assert report["by_channel"] == {"chatbot": 1}
    # The linked article opens without an account.
    page = client.get(first["url"].removeprefix("http://hub.test"))
    assert page.status_code == 200 and "Forgot password?" in page.text


def test_hand_off_ticket_with_transcript_and_agent_reply_live(client, chat_org, hub) -> None:  # type: ignore[no-untyped-def]
    with open_chat(client, chat_org) as (ws, token):
        answer = say(ws, "How do I download my invoices?")
        assert answer["articles"]
        ask = say(ws, "No")
        assert "email" in ask["text"].lower()
        bad = say(ws, "not-an-address")
        assert "doesn't look like an email" in bad["text"]
        opened = say(ws, "Visitor@Example.com")
        assert "ticket #" in opened["text"] and opened["ticket_id"]
        assert token in opened["resume_url"]
        [ticket] = tickets(hub, chat_org.tenant[0])
        assert ticket.id == opened["ticket_id"] and ticket.channel == "chatbot"
        assert "How do I download my invoices?" in ticket.description
        assert "Visitor: No" in ticket.description and "Download invoices <" in ticket.description
        assert ticket.created_by != chat_org.end_user.user_id
        # From now on the visitor's messages are public comments on the ticket.
        ws.send_json({"type": "message", "text": "It's for the March invoice"})
        assert until(ws)["text"] == "It's for the March invoice"
        comments = chat_org.agent.get(f"/api/v1/support/tickets/{ticket.id}/").json()["comments"]
        assert [(c["comment"], c["is_internal"]) for c in comments] == [
            ("It's for the March invoice", False)
        ]
        # An agent's public reply appears in the chat; an internal note does not.
        r = chat_org.agent.post(
            f"/api/v1/support/tickets/{ticket.id}/comment/",
            json={"comment": "Internal: check billing", "is_internal": True},
        )
        assert r.status_code == 201, r.text
        r = chat_org.agent.post(
            f"/api/v1/support/tickets/{ticket.id}/comment/",
            json={"comment": "Here is your March invoice <b>now</b>."},
        )
        assert r.status_code == 201, r.text
        outbox.drain(hub)
        replies = [until(ws, role="agent")]
        while replies[-1]["text"] != "Here is your March invoice <b>now</b>." and len(replies) < 3:
            replies.append(until(ws, role="agent"))  # an automatic response may come first
        assert replies[-1]["text"] == "Here is your March invoice <b>now</b>."
        assert replies[-1]["author"]
    with hub.session() as s:
        texts = list(s.scalars(select(ChatMessage.text).where(ChatMessage.role == "agent")))
    # (Automation may also have posted a public auto-response; internal notes never show.)
    assert "Here is your March invoice <b>now</b>." in texts
    assert not any("Internal: check billing" in t for t in texts)


def test_hand_off_after_unanswered_turns_for_signed_in_user(
    client,
    chat_org,
    hub,  # type: ignore[no-untyped-def]
    configure_chatbot,
) -> None:
    configure_chatbot(chat_org.tenant[0], max_unanswered_turns=2)
    with open_chat(client, chat_org) as (ws, _):
        ws.send_json({"type": "auth", "token": chat_org.end_user.token})
        assert until(ws, "signed_in")["email"] == chat_org.end_user.email
        first = say(ws, "quantum flux capacitor overheating")
        assert not first["articles"] and "other words" in first["text"]
        opened = say(ws, "zebra giraffe elephant")
        assert "ticket #" in opened["text"]
    [ticket] = tickets(hub, chat_org.tenant[0])
    assert ticket.created_by == chat_org.end_user.user_id


def test_talk_to_a_human_and_foreign_token(client, chat_org, other_org, hub) -> None:  # type: ignore[no-untyped-def]
    with open_chat(client, chat_org) as (ws, _):
        ws.send_json({"type": "auth", "token": other_org.end_user.token})
        assert until(ws, "error")["code"] == "unauthenticated"
        ask = say(ws, "I want to talk to a human please")
        assert "email" in ask["text"].lower()
    assert tickets(hub, chat_org.tenant[0]) == []


def test_resume_by_link_shows_replies_given_while_away(client, chat_org, hub) -> None:  # type: ignore[no-untyped-def]
    with open_chat(client, chat_org) as (ws, token):
        say(ws, "talk to a human")
        opened = say(ws, "away@example.com")
        ticket_id = opened["ticket_id"]
    # The visitor left; an agent answers meanwhile.
    r = chat_org.agent.post(
        f"/api/v1/support/tickets/{ticket_id}/comment/",
        json={"comment": "We fixed it on our side."},
    )
    assert r.status_code == 201
    outbox.drain(hub)
    page = client.get(f"/plugins/chatbot/chat?tenant={chat_org.tenant[1]}&session={token}")
    assert page.status_code == 200 and "We fixed it on our side." in page.text
    with client.websocket_connect(ws_url(chat_org, token)) as ws2:
        session = until(ws2, "session")
        assert session["token"] == token and session["state"] == "ticket"
        history = [until(ws2) for _ in range(4)]
        assert [h["role"] for h in history] == ["bot", "user", "bot", "user"]
        rest = until(ws2, role="agent")
        assert rest["text"] == "We fixed it on our side."
        ws2.send_json({"type": "message", "text": "Thanks, works now"})
        until(ws2, role="user")
    comments = chat_org.agent.get(f"/api/v1/support/tickets/{ticket_id}/").json()["comments"]
    assert [c["comment"] for c in comments][-1] == "Thanks, works now"
    with pytest.raises(WebSocketDenialResponse) as denied:
        with client.websocket_connect(ws_url(chat_org, "not-a-real-token")):
            pass
    assert denied.value.status_code == 404


def test_rate_and_length_limits(client, chat_org, hub, configure_chatbot) -> None:  # type: ignore[no-untyped-def]
    configure_chatbot(
        chat_org.tenant[0],
        messages_per_minute_per_session=3,
        max_message_chars=100,
        max_unanswered_turns=10,
    )
    frozen = clock.FrozenClock(clock.now())
    clock.set_clock(frozen)
    with open_chat(client, chat_org) as (ws, _):
        too_long = say(ws, "x" * 101)
        assert too_long["type"] == "error" and too_long["code"] == "too_long"
        for i in range(3):
            assert say(ws, f"question number {i}")["type"] == "message"
        limited = say(ws, "one more")
        assert limited["type"] == "error" and limited["code"] == "rate_limited"
        frozen.advance(seconds=61)
        assert say(ws, "after a minute")["type"] == "message"
    with hub.session() as s:
        users = list(s.scalars(select(ChatMessage.text).where(ChatMessage.role == "user")))
    assert "one more" not in users and all(len(t) <= 100 for t in users)


def test_rate_limit_per_address_across_sessions(client, chat_org, configure_chatbot) -> None:  # type: ignore[no-untyped-def]
    configure_chatbot(
        chat_org.tenant[0],
        messages_per_minute_per_address=2,
        sessions_per_hour_per_address=3,
        max_unanswered_turns=10,
    )
    with open_chat(client, chat_org) as (ws1, _), open_chat(client, chat_org) as (ws2, _):
        assert say(ws1, "first question")["type"] == "message"
        assert say(ws2, "second question")["type"] == "message"
        assert say(ws2, "third question")["code"] == "rate_limited"
    with open_chat(client, chat_org):
        pass
    with client.websocket_connect(ws_url(chat_org)) as ws4:
        assert until(ws4, "error")["code"] == "rate_limited"


def test_no_html_injection(client, chat_org, hub) -> None:  # type: ignore[no-untyped-def]
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    with open_chat(client, chat_org) as (ws, token):
        ws.send_json({"type": "message", "text": evil})
        echo = ws.receive_json()
        assert echo["text"] == evil  # plain text in JSON, rendered with textContent
    page = client.get(f"/plugins/chatbot/chat?tenant={chat_org.tenant[1]}&session={token}")
    assert evil not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(" in page.text
    js = client.get(f"/plugins/chatbot/widget.js?tenant={chat_org.tenant[1]}").text
    assert "innerHTML" not in js and "textContent" in js
    slug_page = client.get('/plugins/chatbot/chat?tenant="><script>x</script>')
    assert slug_page.status_code == 404 and "<script>" not in slug_page.text


def test_disabled_tenant_gets_404_everywhere(client, org, chat_org, other_org) -> None:  # type: ignore[no-untyped-def]
    slug = other_org.tenant[1]
    article = next(iter(chat_org.articles.values()))
    for path in (
        f"/plugins/chatbot/widget.js?tenant={slug}",
        f"/plugins/chatbot/chat?tenant={slug}",
        f"/plugins/chatbot/articles/{article}?tenant={slug}",
        "/plugins/chatbot/widget.js?tenant=no-such-tenant",
        "/plugins/chatbot/widget.js",
    ):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.json()["detail"]
    with pytest.raises(WebSocketDenialResponse) as denied:
        with client.websocket_connect(f"/plugins/chatbot/ws?tenant={slug}"):
            pass
    assert denied.value.status_code == 404
    # The enabled tenant's endpoints answer.
    ok = client.get(f"/plugins/chatbot/widget.js?tenant={chat_org.tenant[1]}")
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("application/javascript")
    assert (
        client.get(f"/plugins/chatbot/articles/{article}?tenant={chat_org.tenant[1]}").status_code
        == 200
    )


def test_a_resolved_ticket_prompts_the_one_click_rating_in_the_chat(client, chat_org, hub) -> None:  # type: ignore[no-untyped-def]
    with open_chat(client, chat_org) as (ws, _):
        say(ws, "How do I download my invoices?")
        say(ws, "No")
        opened = say(ws, "Visitor@Example.com")
        ticket_id = opened["ticket_id"]
        r = chat_org.agent.patch(
            f"/api/v1/support/tickets/{ticket_id}/", json={"status": "Resolved"}
        )
        assert r.status_code == 200, r.text
        outbox.drain(hub)
        prompt = until(ws, role="bot")
        while "is resolved" not in prompt["text"]:
            prompt = until(ws, role="bot")
        urls = [a["url"] for a in prompt["articles"]]
        assert len(urls) == 5 and all("/rate/" in u for u in urls)
    client.cookies.clear()
    assert client.get("/" + urls[4].split("/", 3)[3]).status_code == 200
    with hub.session() as s:
        assert s.get(Ticket, ticket_id).satisfaction_rating == 5
