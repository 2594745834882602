"""The dialogue: greet, suggest articles for a question, ask if they helped, hand over to a human.

Each step is a short transaction of its own: the knowledge-base hook and ``hub.ingest`` open their
own sessions, and SQLite has one writer. The widget reads what a step wrote from the transcript.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from core.api import (
    HubContext,
    HubError,
    InboundMessage,
    authenticate_token,
    merge_suggestions,
    record_deflection,
)
from plugins.chatbot import store
from plugins.chatbot.i18n import t
from plugins.chatbot.models import ChatSession
from plugins.chatbot.settings import ChatbotSettings

EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
)
HUMAN = re.compile(
    r"\b(talk|speak|chat|connect me|put me through|contact|get me)\b.*\b(human|person|agent|"
    r"someone|somebody|operator|representative|support|staff|people)\b|"
    r"^(a )?(human|agent|operator|representative|real person)( please)?$"
)
YES_START = (
    "yes",
    "yep",
    "yeah",
    "yup",
    "it did",
    "that did",
    "solved",
    "perfect",
    "great",
    "thanks",
    "thank you",
    "that helped",
    "it helped",
    "that solved",
    "it worked",
)
NO_START = (
    "no",
    "nope",
    "nah",
    "not really",
    "it didn't",
    "didn't",
    "did not",
    "doesn't",
    "does not",
    "not helpful",
    "that didn't",
    "it did not",
)
CHOICES = ["Yes, that solved it", "No", "Talk to a human"]
# German answers (the quick answers' German words among them): first words and openings.
GERMAN_HUMAN = re.compile(
    r"\b(mensch|menschen|mitarbeiter|mitarbeiterin|mitarbeitenden|person|agenten|support)\b.*"
    r"\b(sprechen|reden|verbinden|chatten|schreiben|bitte)\b|"
    r"\b(sprechen|reden|verbinden)\b.*\b(mensch|menschen|mitarbeiter|mitarbeiterin|person)\b|"
    r"^(ein |einen )?(mensch|menschen|mitarbeiter|mitarbeiterin)( bitte)?$"
)
GERMAN_YES_WORDS = {"ja", "jawohl", "jep", "genau", "danke", "super", "perfekt", "gelöst"}
GERMAN_YES_START = (
    "das hat geholfen",
    "hat geholfen",
    "es hat geholfen",
    "das hat es gelöst",
    "es hat funktioniert",
    "das hat funktioniert",
    "vielen dank",
)
GERMAN_NO_WORDS = {"nein", "nö", "ne", "nee"}
GERMAN_NO_START = (
    "leider nicht",
    "nicht wirklich",
    "hat nicht",
    "das hat nicht",
    "es hat nicht",
    "hat leider nicht",
    "das hat leider nicht",
)


def choices(lang: str) -> list[str]:
    """The quick answers offered after suggestions, in the connection's language."""
    return [t(lang, c) for c in CHOICES]


class ChatError(Exception):
    """A message the chat refuses (too long, too fast, ...): sent back as an error frame."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass
class Chat:
    """One conversation as a connection sees it."""

    hub: HubContext
    tenant_id: uuid.UUID
    tenant_slug: str
    settings: ChatbotSettings
    chat_id: int
    resume_url: str
    lang: str = "en"


def intent(text: str) -> str | None:
    """ "yes", "no", "human", or None for anything else (a new question); English and German."""
    words = " ".join(re.sub(r"[^a-zäöüß' ]", " ", text.lower()).split())
    first = words.split(" ", 1)[0] if words else ""
    if HUMAN.search(words) or GERMAN_HUMAN.search(words):
        return "human"
    if words.startswith(NO_START) and not words.startswith(("no problem",)):
        return "no"
    if first in GERMAN_NO_WORDS or words.startswith(GERMAN_NO_START):
        return "no"
    if words.startswith(YES_START) or first in GERMAN_YES_WORDS:
        return "yes"
    if words.startswith(GERMAN_YES_START):
        return "yes"
    return None


def start(
    hub: HubContext,
    tenant_id: uuid.UUID,
    settings: ChatbotSettings,
    address: str,
    lang: str = "en",
) -> tuple[int, str]:
    """A new conversation with its greeting; (session id, resume token)."""
    with hub.session() as s:
        if store.recent_sessions(s, tenant_id, address) >= settings.sessions_per_hour_per_address:
            raise ChatError(
                "rate_limited",
                t(lang, "Too many conversations from your address; please try again later."),
            )
        chat, token = store.create_session(s, tenant_id, address)
        store.add_message(s, chat, "bot", settings.greeting)
        return chat.id, token


def sign_in(chat: Chat, token: str) -> str:
    """Link the conversation to a signed-in user (bearer token); returns their email."""
    with chat.hub.session() as s:
        ident = authenticate_token(s, token)
        if ident is None or ident.tenant_id != chat.tenant_id:
            raise ChatError("unauthenticated", t(chat.lang, "That sign-in is not valid here."))
        row = _row(s, chat)
        row.user_id, row.email = ident.user_id, ident.email.lower()
        return row.email


def _row(s: Any, chat: Chat) -> ChatSession:
    row = s.get(ChatSession, chat.chat_id)
    if row is None or row.tenant_id != chat.tenant_id:
        raise ChatError("gone", t(chat.lang, "This conversation no longer exists."))
    return row


def handle(chat: Chat, text: str) -> None:
    """Take one visitor message: check the limits, store it, answer it."""
    text = text.strip()
    if not text:
        raise ChatError("empty", t(chat.lang, "Please type a message."))
    if len(text) > chat.settings.max_message_chars:
        raise ChatError(
            "too_long",
            t(
                chat.lang,
                "Messages are limited to %(n)s characters.",
                n=chat.settings.max_message_chars,
            ),
        )
    with chat.hub.session() as s:
        row = _row(s, chat)
        if (
            store.recent_user_messages(s, row, by_address=False)
            >= chat.settings.messages_per_minute_per_session
        ):
            raise ChatError(
                "rate_limited",
                t(chat.lang, "You are sending messages too quickly; please wait a minute."),
            )
        if (
            store.recent_user_messages(s, row, by_address=True)
            >= chat.settings.messages_per_minute_per_address
        ):
            raise ChatError(
                "rate_limited",
                t(chat.lang, "Too many messages from your address; please wait a minute."),
            )
        message = store.add_message(s, row, "user", text)
        state, message_id = row.state, message.id
    if state == "ticket":
        _forward(chat, message_id, text)
    elif state == "email":
        _take_email(chat, text)
    elif state == "confirm":
        _after_suggestions(chat, text)
    else:
        _question(chat, text)


def _say(chat: Chat, text: str, **data: Any) -> None:
    with chat.hub.session() as s:
        store.add_message(s, _row(s, chat), "bot", text, data=data)


def _question(chat: Chat, text: str) -> None:
    if intent(text) == "human":
        _hand_off(chat)
        return
    limit = chat.settings.suggestions
    lists = chat.hub.hooks(chat.tenant_id).hub_kb_suggest(
        tenant_id=chat.tenant_id, text=text, limit=limit, audience="public", hub=chat.hub
    )
    found = [s for s in merge_suggestions(lists, limit) if s.score >= chat.settings.min_score]
    with chat.hub.session() as s:
        row = _row(s, chat)
        row.last_question = text[:2000]
        if found:
            articles = [
                {
                    "id": f.article_id,
                    "title": f.title,
                    "excerpt": f.excerpt,
                    "url": _article_url(chat, f.article_id, f.url, f.source),
                }
                for f in found
            ]
            row.state, row.offered = "confirm", [f.article_id for f in found]
            store.add_message(
                s,
                row,
                "bot",
                t(chat.lang, "Here is what I found. Did one of these solve your problem?"),
                data={"articles": articles, "choices": choices(chat.lang)},
            )
            return
        row.unanswered += 1
        give_up = row.unanswered >= chat.settings.max_unanswered_turns
        if not give_up:
            store.add_message(
                s,
                row,
                "bot",
                t(
                    chat.lang,
                    "I couldn't find an article about that. Could you describe it in other "
                    'words? You can also type "talk to a human".',
                ),
                data={"choices": [t(chat.lang, "Talk to a human")]},
            )
    if give_up:
        _hand_off(chat)


def _article_url(chat: Chat, article_id: int, url: str, source: str) -> str:
    # Visitors may not have a portal account: built-in articles open on the chat's own page.
    if source != "kb":
        return url
    return f"{chat.hub.base_url}/plugins/chatbot/articles/{article_id}?tenant={chat.tenant_slug}"


def _after_suggestions(chat: Chat, text: str) -> None:
    said = intent(text)
    if said == "yes":
        with chat.hub.session() as s:
            row = _row(s, chat)
            if row.offered:
                try:
                    record_deflection(
                        s,
                        chat.tenant_id,
                        article_id=int(row.offered[0]),
                        user_id=row.user_id,
                        channel="chatbot",
                        query=row.last_question,
                    )
                except Exception:
                    pass
            row.state, row.offered, row.unanswered = "asking", [], 0
            store.add_message(
                s,
                row,
                "bot",
                t(
                    chat.lang,
                    "Great, I'm glad that helped! Is there anything else I can do for you?",
                ),
            )
        return
    if said in ("no", "human"):
        _hand_off(chat)
        return
    with chat.hub.session() as s:
        row = _row(s, chat)
        row.unanswered += 1
        row.state = "asking"
        give_up = row.unanswered >= chat.settings.max_unanswered_turns
    if give_up:
        _hand_off(chat)
    else:
        _question(chat, text)


def _hand_off(chat: Chat) -> None:
    with chat.hub.session() as s:
        row = _row(s, chat)
        if not row.email:
            row.state = "email"
            store.add_message(
                s,
                row,
                "bot",
                t(
                    chat.lang,
                    "I'll pass this on to our support team. What email address can they reach "
                    "you at?",
                ),
            )
            return
    _open_ticket(chat)


def _take_email(chat: Chat, text: str) -> None:
    address = text.strip()
    if len(address) > 254 or not EMAIL.match(address):
        _say(
            chat,
            t(
                chat.lang,
                "That doesn't look like an email address. Please type it like name@example.com.",
            ),
        )
        return
    with chat.hub.session() as s:
        _row(s, chat).email = address.lower()
    _open_ticket(chat)


def _open_ticket(chat: Chat) -> None:
    with chat.hub.session() as s:
        row = _row(s, chat)
        email = row.email or ""
        subject = row.last_question or next(
            (m.text for m in store.messages_after(s, row.id, 0) if m.role == "user"), "Chat"
        )
        body = store.transcript(s, row)
    result = chat.hub.ingest(
        chat.tenant_id,
        InboundMessage(
            channel="chatbot",
            dedupe_key=f"chatbot:{chat.chat_id}:handoff",
            sender_email=email,
            subject=f"Chat: {' '.join(subject.split())[:100]}",
            body=body,
            meta={"chat_session": chat.chat_id},
        ),
    )
    with chat.hub.session() as s:
        row = _row(s, chat)
        row.ticket_id, row.state, row.offered = result.ticket_id, "ticket", []
        store.add_message(
            s,
            row,
            "bot",
            t(
                chat.lang,
                "I've opened ticket #%(ticket)s for you with this conversation. An agent will "
                "answer here, and we'll also email you at %(email)s. To come back to this chat "
                "later, use this link: %(link)s",
                ticket=result.ticket_id,
                email=email,
                link=chat.resume_url,
            ),
            data={"ticket_id": result.ticket_id, "resume_url": chat.resume_url},
        )


def _forward(chat: Chat, message_id: int, text: str) -> None:
    with chat.hub.session() as s:
        row = _row(s, chat)
        email, ticket_id = row.email or "", row.ticket_id
    try:
        result = chat.hub.ingest(
            chat.tenant_id,
            InboundMessage(
                channel="chatbot",
                dedupe_key=f"chatbot:{chat.chat_id}:{message_id}",
                sender_email=email,
                body=text,
                ticket_hint=ticket_id,
                meta={"chat_session": chat.chat_id},
            ),
        )
    except HubError as exc:
        _say(chat, t(chat.lang, "Your message could not be added to the ticket: %(why)s", why=exc))
        return
    if result.ticket_id != ticket_id:
        # The ticket was merged, or closed to replies: follow where the message went.
        with chat.hub.session() as s:
            _row(s, chat).ticket_id = result.ticket_id
