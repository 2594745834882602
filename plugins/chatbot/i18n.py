"""The chat's words in the visitor's language: English, or German from this plugin's own
catalogue (``translations/de.po``; the hub's catalogue is the console's, and a plugin imports
nothing of the hub). The language is chosen per connection: the widget's ``lang`` (the
embedding page's language, else the browser's), else the request's ``Accept-Language``.

The bot's own lines are worded when they are said, so a conversation reads in the language of
the connection that asked; the tenant's greeting is the tenant's text, as written.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from core.api import negotiate_locale

LANGUAGES = ("en", "de")
DEFAULT = "en"
HERE = Path(__file__).parent

# The widget's words (English, the catalogue's keys); the server fills them in per language.
WIDGET_WORDS = {
    "you": "You",
    "bot": "Support bot",
    "agent": "Support agent",
    "support": "Support",
    "title": "Support chat",
    "close": "Close the chat",
    "conversation": "Conversation",
    "your_message": "Your message",
    "send": "Send",
    "launch": "Chat with support",
    "not_connected": "Not connected yet, please try again in a moment.",
    "too_long": "Messages are limited to %(n)s characters.",
    "quick_answers": "Quick answers",
    "resume": "Link to come back to this chat",
    "unavailable": "The chat is not available.",
    "reconnecting": "Connection lost, reconnecting…",
    "disconnected": "Disconnected. Reload the page to try again.",
}


@functools.cache
def _catalogue(lang: str) -> dict[str, str]:
    if lang == DEFAULT:
        return {}
    with open(HERE / "translations" / f"{lang}.po", "rb") as fh:
        catalog = read_po(fh)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def pick(*candidates: str | None) -> str:
    """The first supported language among codes (``de-AT``) or ``Accept-Language`` headers
    (by their q values; the hub's own negotiation), English when none is."""
    for candidate in candidates:
        found = negotiate_locale(candidate)
        if found in LANGUAGES:
            return found
    return DEFAULT


def t(lang: str, text: str, **values: Any) -> str:
    """``text`` in ``lang`` (English when the catalogue lacks it), ``%(name)s`` filled in."""
    worded = _catalogue(lang if lang in LANGUAGES else DEFAULT).get(text, text)
    return worded % values if values else worded


def widget_words(lang: str) -> dict[str, str]:
    return {"lang": lang, **{k: t(lang, v) for k, v in WIDGET_WORDS.items()}}
