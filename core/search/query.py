"""The search box's language, parsed by us: words (all must match), "a phrase", prefix*.

Nothing the user typed reaches ``to_tsquery`` or ``MATCH`` as syntax: the text is cut into
words (letters and digits, any script), and each item is rebuilt from those words, quoted, in
the target's syntax. Operators, quotes out of place, brackets, SQL or FTS keywords are words or
nothing. A query with no word is ``Invalid`` (422 on ``q``); so is one with too many items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import Invalid

MAX_ITEMS = 12
MAX_PHRASE_WORDS = 12
_WORD = re.compile(r"[^\W_]+")
# A quoted phrase, a bare word (anything between spaces and quotes), with an optional * after.
_TOKEN = re.compile(r'"([^"]*)"?(\*?)|([^\s"]+)')


@dataclass(frozen=True)
class Item:
    """One thing every match contains: a word, a phrase (several words in a row) or a prefix."""

    words: tuple[str, ...]
    prefix: bool = False

    @property
    def kind(self) -> str:
        if self.prefix:
            return "prefix"
        return "phrase" if len(self.words) > 1 else "word"


@dataclass(frozen=True)
class Query:
    items: tuple[Item, ...]

    def tsquery(self) -> str:
        """PostgreSQL ``to_tsquery`` text: quoted lexemes only, ``&``, ``<->`` and ``:*``."""
        parts = []
        for item in self.items:
            quoted = [f"'{w}'" for w in item.words]
            if item.prefix:
                quoted[-1] += ":*"
            parts.append(quoted[0] if len(quoted) == 1 else "(" + " <-> ".join(quoted) + ")")
        return " & ".join(parts)

    def fts5(self) -> str:
        """An FTS5 MATCH expression: each item a double-quoted string (a phrase), ``*`` after
        a prefix; items side by side (AND)."""
        parts = []
        for item in self.items:
            parts.append('"' + " ".join(item.words) + '"' + ("*" if item.prefix else ""))
        return " ".join(parts)


def parse(text: str) -> Query:
    """The query's items, or ``Invalid`` naming the ``q`` field."""
    items: list[Item] = []
    for match in _TOKEN.finditer(text or ""):
        quoted, star, bare = match.group(1), match.group(2), match.group(3)
        raw = quoted if quoted is not None else bare
        prefix = bool(star)
        if bare is not None and bare.endswith("*"):
            prefix = True
        words = tuple(w.lower() for w in _WORD.findall(raw))
        if not words:
            continue
        if len(words) > MAX_PHRASE_WORDS:
            raise Invalid(f"a phrase has at most {MAX_PHRASE_WORDS} words", field="q")
        # A bare "e-mail" or "a@b.com" is the phrase of its words, as the indexes split them.
        items.append(Item(words, prefix))
    unique = tuple(dict.fromkeys(items))
    if not unique:
        raise Invalid("the search needs at least one word (letters or digits)", field="q")
    if len(unique) > MAX_ITEMS:
        raise Invalid(f"a search has at most {MAX_ITEMS} words or phrases", field="q")
    return Query(unique)
