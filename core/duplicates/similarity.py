"""How alike two support requests are: the same on SQLite and PostgreSQL (plain Python over the
few candidates of one requester, no database function).

The text is cleaned first: quoted reply history (``>`` lines, "On ... wrote:", Outlook header
blocks, "Original Message") and signatures (``--`` and the sign-off block at the end) go, so two
mails that quote the same thread do not look alike for that. Then three measures, each in [0, 1]:

- **subject**: how much of each subject the other ticket's text has (the lower of the two
  directions: a near miss about the same system has subject words the other never uses),
- **text**: how much of the shorter ticket's content words (stop words and support filler such
  as "hi", "please", "issue", "any news" dropped, light stemming so "drops" meets "dropped";
  longer words and the subject's words count more) the longer one has,
- **shape**: cosine of character 4-grams of the content words (spelling variants, compounds:
  "log in" / "login", "e-mail" / "email").

The score is a weighted sum tuned on the tuning half of ``tests/fixtures/duplicates/``
(``THRESHOLD``, ``WEIGHTS``); the reason names the strongest part and the shared words.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

MAX_CHARS = 6000
WEIGHTS = {"subject": 0.1, "text": 0.4, "shape": 0.5}
THRESHOLD = 0.6

STOP = frozenset(
    """a about above after again against all am an and any anyone anything are aren't as at be
    because been before being below between both but by can can't cannot could couldn't did didn't
    do does doesn't doing don't down during each few for from further get gets getting got had
    hadn't has hasn't have haven't having he her here hers herself him himself his how i i'd i'll
    i'm i've if in into is isn't it it's its itself just let's me more most my myself no nor not
    now of off on once only or other ought our ours ourselves out over own same she should so
    some such than that that's the their theirs them themselves then there there's these they this
    those through to too under until up very was wasn't we we're were weren't what when where which
    while who whom why will with won't would wouldn't you you're your yours yourself also still
    already again yet since ago today yesterday tomorrow week weeks day days hour's morning
    afternoon evening tonight soon asap urgent urgently hi hello hey dear team support helpdesk
    please pls thanks thank thx cheers regards best kind kindly sorry help helping ticket tickets
    request requests issue issues problem problems question questions news update updates status
    follow following followup reply replied wrote write writing sent send message email mail
    re fw fwd fyi anybody someone something really seems seem like know think need needs needed
    want wanted trying tried try able unable one two now back still can't could work works
    working worked anymore everything everyone nothing properly again""".split()
)

_QUOTE_START = re.compile(
    r"^\s*(?:on\b.{0,200}\bwrote:?\s*$|-{2,}\s*original message\s*-{2,}|from:\s.+|"
    r"le\b.{0,200}\ba écrit\s*:|am\b.{0,200}\bschrieb.{0,80}:)",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^\s*(?:thanks|thank you|many thanks|thanks in advance|cheers|regards|best|best regards|"
    r"kind regards|warm regards|br|sent from my \w+.*|--|__+)(?:[\s,.!]*|,\s*\w+(?:\s\w+)?\s*)$",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|sv|wg)\s*:\s*|\[#?\d+\]\s*)+", re.I)


def strip_quotes_and_signature(text: str) -> str:
    """The lines the sender wrote: quoted history and the trailing signature removed."""
    kept: list[str] = []
    for line in (text or "")[:MAX_CHARS].splitlines():
        if line.lstrip().startswith(">"):
            continue
        if _QUOTE_START.match(line):
            break
        kept.append(line)
    # A sign-off in the last lines starts the signature.
    for i in range(len(kept) - 1, max(-1, len(kept) - 8), -1):
        if _SIGN_OFF.match(kept[i]):
            kept = kept[:i]
            break
    return "\n".join(kept)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def _stem(word: str) -> str:
    for suffix in ("ingly", "ing", "edly", "ed", "ies", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if suffix == "ies":
                word += "y"
            elif len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
                word = word[:-1]  # jamming -> jamm -> jam
            break
    return word


def content_words(text: str) -> list[str]:
    """Folded, stemmed words without stop words and bare numbers."""
    out = []
    for w in _WORD.findall(_fold(text)):
        w = w.replace("’", "'")
        if w in STOP or len(w) < 2 or w.isdigit():
            continue
        out.append(_stem(w.split("'")[0]))
    return out


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) < len(b) else (b, a)
    dot = sum(v * large.get(k, 0) for k, v in small.items())
    if not dot:
        return 0.0
    return dot / (
        math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    )


def _grams(words: list[str], n: int = 4) -> Counter[str]:
    grams: Counter[str] = Counter()
    for w in words:
        padded = f" {w} "
        if len(padded) <= n:
            grams[padded] += 1
        for i in range(len(padded) - n + 1):
            grams[padded[i : i + n]] += 1
    return grams


@dataclass
class Doc:
    """A ticket's text, prepared once for comparing with several others."""

    subject: str
    subject_words: frozenset[str]
    words: Counter[str]
    grams: Counter[str]


def prepare(subject: str, description: str) -> Doc:
    """Clean and count a ticket's subject and description."""
    subject = _SUBJECT_PREFIX.sub("", subject or "").strip()
    s_words = content_words(subject)
    b_words = content_words(strip_quotes_and_signature(description or ""))
    return Doc(
        subject=subject,
        subject_words=frozenset(s_words),
        words=Counter(s_words + b_words),
        grams=_grams(s_words + b_words),
    )


def _covered(
    part: frozenset[str], whole: Counter[str], heavy: frozenset[str] = frozenset()
) -> float:
    """The share of ``part``'s words found in ``whole``: longer words count more, and the words
    in ``heavy`` (the subject's) twice."""
    if not part:
        return 0.0
    weight = {w: len(w) * (2 if w in heavy else 1) for w in part}
    return sum(v for w, v in weight.items() if w in whole) / sum(weight.values())


@dataclass
class Match:
    """The score of a pair and what it rests on."""

    score: float
    subject: float
    text: float
    shape: float
    shared: list[str]

    def basis(self, who: str = "same requester") -> str:
        """What the flag rests on, without a word of the tickets' text (stored with the flag,
        which outlives an erasure or retention run that rewrites the tickets)."""
        what = "similar subject" if self.subject >= 0.5 else "similar description"
        return f"{who}, {what}; score {self.score:.2f}"

    def reason(self, other_subject: str, who: str = "same requester") -> str:
        """A sentence for the agent (built from the tickets' current text when shown): who,
        which part matched, the shared words."""
        if self.subject >= 0.5:
            what = f"similar subject '{other_subject[:80]}'"
        else:
            what = "similar description"
        words = ", ".join(self.shared[:6])
        text = f"{who}, {what}"
        if words:
            text += f" (shared words: {words})"
        return f"{text}; score {self.score:.2f}"[:500]


def compare(a: Doc, b: Doc) -> Match:
    """How alike two prepared tickets are.

    ``subject``: how much of each subject the other ticket's text covers (the lower of the two:
    a near miss about the same system has subject words the other never uses); ``text``: how
    much of the shorter ticket's words the longer one has; ``shape``: character 4-gram cosine.
    """
    subject = min(_covered(a.subject_words, b.words), _covered(b.subject_words, a.words))
    short, long_ = (a, b) if len(a.words) <= len(b.words) else (b, a)
    text = _covered(frozenset(short.words), long_.words, short.subject_words)
    shape = _cosine(a.grams, b.grams)
    score = WEIGHTS["subject"] * subject + WEIGHTS["text"] * text + WEIGHTS["shape"] * shape
    shared = sorted(set(a.words) & set(b.words), key=lambda w: (-(a.words[w] + b.words[w]), w))
    return Match(round(score, 4), subject, text, shape, shared)


def similar(a: Doc, b: Doc, threshold: float = THRESHOLD) -> Match | None:
    """The match when the pair scores at least ``threshold``."""
    match = compare(a, b)
    return match if match.score >= threshold else None
