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
English, and translated where they are shown (``base.html`` passes the flash through ``_()``).
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


def install(env: Any) -> None:
    """Give a Jinja2 environment ``{% trans %}``, ``_()``, ``|when`` and ``|day``."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    # A message made elsewhere (a flash marked with N_): translated, never taken as markup and
    # never %-formatted (``_()`` in a template is both).
    env.globals["translate"] = gettext
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
