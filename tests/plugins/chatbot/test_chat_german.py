"""The web chat in German: the page, the article page and the widget's words follow the
visitor's language (the widget's ``lang``, else ``Accept-Language``), the bot speaks German on a
German connection and understands German answers; every word the chat shows is in its
catalogue."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from sqlalchemy import select

from core.models import Ticket
from plugins.chatbot import i18n

PLUGIN = Path(i18n.__file__).parent


def _next(ws: Any, kind: str = "message", role: str | None = None) -> dict[str, Any]:
    for _ in range(20):
        frame = ws.receive_json()
        if frame["type"] == kind and (role is None or frame.get("role") == role):
            return frame
    raise AssertionError(f"no {kind} frame")


def _say(ws: Any, text: str) -> dict[str, Any]:
    ws.send_json({"type": "message", "text": text})
    echo = ws.receive_json()
    if echo["type"] == "error":
        return echo
    return _next(ws, role="bot")


def test_the_page_and_the_widget_speak_the_visitors_language(client, chat_org) -> None:  # type: ignore[no-untyped-def]
    slug = chat_org.tenant[1]
    page = client.get(
        f"/plugins/chatbot/chat?tenant={slug}", headers={"Accept-Language": "de-DE,de;q=0.9"}
    )
    assert page.status_code == 200
    assert '<html lang="de">' in page.text and "Support-Chat von" in page.text
    assert "lang=de" in page.text  # the page's widget asks for German words
    english = client.get(f"/plugins/chatbot/chat?tenant={slug}", headers={"Accept-Language": "fr"})
    assert '<html lang="en">' in english.text and "support chat" in english.text
    widget = client.get(f"/plugins/chatbot/widget.js?tenant={slug}&lang=de")
    assert widget.status_code == 200 and "__WORDS__" not in widget.text
    words = json.loads(re.search(r"var W = (\{.*?\});", widget.text).group(1))  # type: ignore[union-attr]
    assert words["lang"] == "de" and words["send"] == "Senden"
    assert widget.headers["vary"] == "Accept-Language"
    by_header = client.get(
        f"/plugins/chatbot/widget.js?tenant={slug}", headers={"Accept-Language": "de"}
    )
    assert '"send": "Senden"' in by_header.text
    plain = client.get(f"/plugins/chatbot/widget.js?tenant={slug}")
    assert '"send": "Send"' in plain.text


def test_a_german_conversation_hands_off_in_german(client, chat_org, hub) -> None:  # type: ignore[no-untyped-def]
    with client.websocket_connect(f"/plugins/chatbot/ws?tenant={chat_org.tenant[1]}&lang=de") as ws:
        _next(ws, "session")
        _next(ws, role="bot")  # the tenant's greeting, as the tenant wrote it
        nothing = _say(ws, "Mein Drucker qwxzv druckt nur Hieroglyphen")
        assert "keinen Artikel gefunden" in nothing["text"], nothing
        assert nothing["choices"] == ["Mit einem Menschen sprechen"]
        ask = _say(ws, "Mit einem Menschen sprechen")
        assert "E-Mail-Adresse" in ask["text"], ask
        wrong = _say(ws, "keine Adresse")
        assert "sieht nicht wie eine E-Mail-Adresse aus" in wrong["text"]
        done = _say(ws, "kunde@beispiel.de")
        assert "Ticket #" in done["text"] and "für Sie eröffnet" in done["text"], done
        ws.send_json({"type": "message", "text": " "})
        assert ws.receive_json()["detail"] == "Bitte schreiben Sie eine Nachricht."
    with hub.session() as s:
        subjects = list(
            s.scalars(select(Ticket.subject).where(Ticket.tenant_id == chat_org.tenant[0]))
        )
    assert subjects == ["Chat: Mein Drucker qwxzv druckt nur Hieroglyphen"]


def test_every_word_the_chat_shows_is_in_the_german_catalogue() -> None:
    with open(PLUGIN / "translations" / "de.po", "rb") as fh:
        german = {str(m.id) for m in read_po(fh) if m.id and m.string}
    used: set[str] = set(i18n.WIDGET_WORDS.values())
    for name in ("conversation.py", "routes.py"):
        tree = ast.parse((PLUGIN / name).read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "t"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                used.add(str(node.args[1].value))
    from plugins.chatbot.conversation import CHOICES

    used.update(CHOICES)
    for template in (PLUGIN / "templates").glob("*.html"):
        used.update(re.findall(r'_\("([^"]+)"', template.read_text()))
        used.update(re.findall(r"_\('([^']+)'", template.read_text()))
    assert len(used) > 30
    assert sorted(used - german) == []
    # And no English sentence is left outside the catalogue in the widget.
    script = (PLUGIN / "static" / "widget.js").read_text()
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", script, flags=re.S)
    literals = re.findall(r'"([A-Z][a-z]+(?: [a-z]+)+[^"]*)"', code)
    assert literals == []
