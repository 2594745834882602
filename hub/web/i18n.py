"""The console's translation layer: gettext catalogues for the templates (Jinja2's i18n
extension, ``{% trans %}`` and ``_()``) and for Python-side strings, and the reader's locale and
time zone for every time shown.

Catalogues are ``translations/<locale>/LC_MESSAGES/messages.po``, read with Babel when the
process starts (no compile step, no ``.mo`` file in the tree). English is the source language:
a message's id is its English text. The workflow (README, "Time zones and languages"):

    .venv/bin/pybabel extract -F hub/web/translations/babel.cfg -o hub/web/translations/messages.pot .
    .venv/bin/pybabel update -i hub/web/translations/messages.pot -d hub/web/translations -N

then translate the new entries of ``de/LC_MESSAGES/messages.po``; ``tests/hub/web/test_i18n.py``
fails while one is missing, empty or fuzzy.

Python-side strings that are shown later (flash messages) are marked with ``N_()``, stored in
English with the values of their ``%(name)s`` places (``hub.web.render.redirect``), and
translated where they are shown (``base.html``: ``flash_text``). The page's scripts get their
words from ``ui_words`` (``#ui-words``); none is spelled out in a script.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import pass_context
from jinja2.runtime import Context

from core.i18n import DEFAULT_LOCALE, DEFAULT_TIME_ZONE, SUPPORTED_LOCALES, format_day, format_when
from core.i18n.service import Reader
from core.sla.countdown import AT_RISK, BREACHED, ON_TRACK, PAUSED, Countdown

HERE = Path(__file__).parent
TRANSLATIONS = HERE / "translations"
BABEL_CFG = TRANSLATIONS / "babel.cfg"
# The keywords extraction looks for in Python sources (``N_``: marked now, translated when shown).
KEYWORDS: dict[str, Any] = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}

_current: ContextVar[Reader | None] = ContextVar("hub_reader", default=None)
_DEFAULT = Reader(DEFAULT_LOCALE, DEFAULT_TIME_ZONE)


def N_(message: str) -> str:
    """Mark a string for the catalogue without translating it now (it is translated where it
    is shown, in the reader's language)."""
    return message


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


@lru_cache(maxsize=len(SUPPORTED_LOCALES))
def translations(locale: str) -> NullTranslations:
    """A locale's catalogue, read from its ``.po`` (fuzzy entries are left out, as gettext does)."""
    path = po_path(locale)
    if locale == DEFAULT_LOCALE or not path.exists():
        return NullTranslations()
    with path.open("rb") as fp:
        catalog = read_po(fp, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf)


def current() -> Reader:
    """The locale and zone of whoever the page or message being made is for."""
    return _current.get() or _DEFAULT


@contextmanager
def reading_as(reader: Reader) -> Iterator[Reader]:
    """Make strings and times for ``reader`` within the block."""
    token = _current.set(reader)
    try:
        yield reader
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return translations(current().locale).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current().locale).ngettext(singular, plural, n)


def _reader_of(ctx: Context) -> Reader:
    found = ctx.get("viewer")
    return found if isinstance(found, Reader) else current()


@pass_context
def when_filter(ctx: Context, value: Any) -> str:
    """``{{ t.created_at|when }}``: a stored time in the reader's zone and locale."""
    reader = _reader_of(ctx)
    return format_when(value, reader.locale, reader.time_zone) if value else ""


@pass_context
def day_filter(ctx: Context, value: Any) -> str:
    """``{{ t.expires_at|day }}``: the date of a stored time in the reader's zone and locale."""
    reader = _reader_of(ctx)
    return format_day(value, reader.locale, reader.time_zone) if value else ""


def translate(message: str, **args: Any) -> str:
    """A message made elsewhere (a flash marked with ``N_``, a stored value), in the reader's
    language; ``args`` fill its ``%(name)s`` places after translation (never taken as markup)."""
    text = gettext(message)
    return text % args if args else text


# A flash's values that are themselves stored English words (a role, a status, a priority).
TRANSLATED_ARGS = frozenset({"role", "status", "priority", "category"})


def flash_text(parts: Any) -> str:
    """A flash message's parts (``hub.web.render.redirect``) in the reader's language; values
    named in ``TRANSLATED_ARGS`` are translated too."""
    shown = []
    for text, values in parts or ():
        args = {k: gettext(v) if k in TRANSLATED_ARGS else v for k, v in dict(values).items()}
        shown.append(translate(text, **args))
    return " ".join(shown)


# ------------------------------------------------------------------ SLA countdowns in words

# core.sla.countdown keeps the states and the numbers; their words are the reader's. The same
# templates go to static/countdown.js (``ui_words``), which rewrites the words every minute.
SLA_STATES = {
    ON_TRACK: N_("On track"),
    AT_RISK: N_("At risk"),
    BREACHED: N_("Breached"),
    PAUSED: N_("Paused"),
}
SLA_WORDS = {
    "under_a_minute": N_("less than 1 min"),
    "minutes": N_("%(minutes)s min"),
    "hours": N_("%(hours)s h"),
    "hours_minutes": N_("%(hours)s h %(minutes)s min"),
    "days": N_("%(days)s d"),
    "days_hours": N_("%(days)s d %(hours)s h"),
    "left": N_("%(time)s left"),
    "breached": N_("breached %(time)s ago"),
    "paused": N_("paused, %(time)s left"),
    "paused_passed": N_("paused, target passed"),
}


# What the scripts say (static/words.js's ``hubText(key, values)``): announcements of the live
# updates, the presence line and the keyboard shortcuts.
SCRIPT_WORDS = {
    "unread": N_("%(n)s unread"),
    "new_tickets": N_("New tickets arrived."),
    "new_messages": N_("New messages arrived."),
    "link_inserted": N_("Link inserted into the reply."),
    "names_and": N_("%(names)s and %(last)s"),
    "also_viewing": N_("Also viewing: %(names)s."),
    "nobody_viewing": N_("No one else is viewing this ticket."),
    "typing_one": N_("%(names)s is typing a reply."),
    "typing_many": N_("%(names)s are typing a reply."),
    "shortcuts_closed": N_("Shortcut list closed"),
    "no_tickets_here": N_("No tickets here"),
    "ticket_n_of": N_("Ticket %(n)s of %(count)s: %(name)s"),
    "choose_first": N_("Choose a ticket first with j or k"),
    "assigning_name": N_("Assigning %(name)s to you"),
    "assigned_to_you": N_("Assigned to you"),
    "assign_failed": N_("The ticket could not be assigned; try again"),
    "opening": N_("Opening %(name)s"),
    "select_needs_agent": N_("Selecting needs an agent's role"),
    "selected_name": N_("Selected %(name)s; %(count)s selected"),
    "unselected_name": N_("Unselected %(name)s; %(count)s selected"),
    "search_queue": N_("Search the queue"),
    "reply_to_requester": N_("Reply to the requester"),
    "internal_note_staff": N_("Internal note, seen by staff only"),
    "already_yours": N_("The ticket is already yours"),
    "cannot_assign": N_("You cannot be assigned this ticket"),
    "assigning_ticket": N_("Assigning the ticket to you"),
    "set_status": N_("Set the status"),
    "back_to_queue": N_("Back to the queue"),
}


def sla_words() -> dict[str, str]:
    """The countdown's word templates in the reader's language (``%(name)s`` places)."""
    return {key: gettext(text) for key, text in SLA_WORDS.items()}


def ui_words() -> dict[str, str]:
    """Every template the page's scripts use, in the reader's language (base.html's
    ``#ui-words``, read by static/words.js)."""
    return {**sla_words(), **{key: gettext(text) for key, text in SCRIPT_WORDS.items()}}


def sla_duration(minutes: float) -> str:
    """A span in the reader's words: "less than 1 min", "35 min", "2 h 10 min", "3 d 4 h"."""
    total = int(max(minutes, 0))
    if total < 1:
        return gettext(SLA_WORDS["under_a_minute"])
    days, rest = divmod(total, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        key = "days_hours" if hours else "days"
    elif hours:
        key = "hours_minutes" if mins else "hours"
    else:
        key = "minutes"
    return gettext(SLA_WORDS[key]) % {"days": days, "hours": hours, "minutes": mins}


def sla_text(countdown: Countdown) -> str:
    """A ``core.sla.countdown.Countdown`` in the reader's words: "2 h 10 min left",
    "breached 35 min ago", "paused, 3 h left"."""
    left = countdown.left_minutes
    if countdown.state == BREACHED:
        return translate(SLA_WORDS["breached"], time=sla_duration(-left))
    if countdown.state == PAUSED:
        if left <= 0:
            return gettext(SLA_WORDS["paused_passed"])
        return translate(SLA_WORDS["paused"], time=sla_duration(left))
    return translate(SLA_WORDS["left"], time=sla_duration(left))


def sla_label(countdown: Countdown) -> str:
    """The countdown's state in a word, in the reader's language."""
    return gettext(SLA_STATES.get(countdown.state, countdown.label))


def install(env: Any) -> None:
    """Give a Jinja2 environment ``{% trans %}``, ``_()``, ``|when`` and ``|day``."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    # A message made elsewhere (a flash marked with N_): translated, never taken as markup and
    # never %-formatted (``_()`` in a template is both).
    env.globals["translate"] = translate
    env.globals.update(
        sla_text=sla_text, sla_label=sla_label, ui_words=ui_words, flash_text=flash_text
    )
    env.filters["translate"] = translate
    env.filters["when"] = when_filter
    env.filters["day"] = day_filter


def method_map() -> tuple[list[tuple[str, str]], dict[str, dict[str, Any]]]:
    """``babel.cfg`` as Babel's extraction API takes it."""
    from babel.messages.frontend import parse_mapping_cfg

    with BABEL_CFG.open(encoding="utf-8") as fp:
        return parse_mapping_cfg(fp)


def extract(root: Path) -> dict[str, tuple[str, int]]:
    """Every translatable message id under ``root`` (the repository) as ``babel.cfg`` maps it:
    msgid -> (file, line) where it is first seen. Plural forms count as their singular."""
    methods, options = method_map()
    found: dict[str, tuple[str, int]] = {}
    messages: Iterator[Any] = extract_from_dir(
        str(root), methods, options, keywords={**KEYWORDS}, strip_comment_tags=True
    )
    for filename, lineno, message, _comments, _context in messages:
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, (filename, lineno))
    return found


# The spec's values, shown translated (``translate(t.status)``) while stored in English. A test
# checks this list against core.lifecycle.
VALUE_LABELS = (
    N_("New"),
    N_("Open"),
    N_("In Progress"),
    N_("Pending"),
    N_("Resolved"),
    N_("Closed"),
    N_("Reopened"),
    N_("Low"),
    N_("Medium"),
    N_("High"),
    N_("Critical"),
    N_("Onboarding"),
    N_("Access"),
    N_("Technical Issue"),
    N_("Billing"),
    N_("Feature Request"),
    N_("Security"),
    N_("Other"),
)

# A person export's state (hub.privacy), shown translated on the account and privacy pages.
EXPORT_STATES = (N_("pending"), N_("running"), N_("done"), N_("failed"), N_("expired"))

# A ticket's channel (``Ticket.channel``), shown translated on the person and organisation pages.
CHANNEL_LABELS = (
    N_("web"),
    N_("email"),
    N_("api"),
    N_("slack"),
    N_("teams"),
    N_("chatbot"),
    N_("automation"),
    N_("macro"),
)

# What a person merge moves (core.organisations.merge.preview's keys), counted on its confirmation.
MERGE_MOVES = (
    N_("tickets"),
    N_("tickets assigned"),
    N_("comments"),
    N_("attachments"),
    N_("notifications"),
    N_("help-centre deflections"),
    N_("legal holds"),
    N_("mail thread participations"),
    N_("organisation link"),
    N_("notification preferences"),
    N_("plugin records"),
)

# A help-centre article's state as a flash names it ("saved as draft").
ARTICLE_STATES = (N_("published"), N_("draft"))

# Labels that core keeps in English and the console shows translated: custom field types
# (core.fields.service.TYPE_LABELS), notification channels (core.notifications.matrix.
# CHANNEL_LABELS) and escalation targets (core.automation.escalation's and the plugins').
# A test checks them against core.
CORE_LABELS = (
    N_("Text"),
    N_("Number"),
    N_("Date"),
    N_("Drop-down"),
    N_("Multi-select"),
    N_("Checkbox"),
    N_("Email"),
    N_("In the app"),
    N_("Chat DM (Slack, Teams)"),
    N_("Escalate to admins"),
    N_("Create Jira issue"),
    N_("Page on-call"),
)
