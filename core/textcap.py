"""One bound on the texts that search, suggestion and rules read.

A mail can carry megabytes (100,000 links); ranking or matching all of it only costs time, since
the words that decide a ranking or a rule are near the start. Every place where a text enters KB
search, rule matching or suggestion takes it through ``search_text``.
"""

from __future__ import annotations

from typing import Any

MAX_SEARCH_TEXT = 20_000  # characters


def search_text(text: Any, limit: int = MAX_SEARCH_TEXT) -> str:
    """The first ``limit`` characters of ``text`` (``None`` is empty, other values as ``str``)."""
    if text is None:
        return ""
    value = text if isinstance(text, str) else str(text)
    return value if len(value) <= limit else value[:limit]
