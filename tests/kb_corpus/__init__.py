"""A realistic help centre (``articles.md``) and questions users asked (``questions.json``).

Used by the ranking quality test and by ``bench/kb.py``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent


@dataclass
class CorpusArticle:
    key: str
    title: str
    category: str
    tags: list[str] = field(default_factory=list)
    body: str = ""


def articles() -> list[CorpusArticle]:
    """Every article of ``articles.md``, in file order."""
    text = re.sub(r"<!--.*?-->", "", (HERE / "articles.md").read_text(), flags=re.S)
    out: list[CorpusArticle] = []
    for chunk in re.split(r"^## ", text, flags=re.M)[1:]:
        head, meta, body = chunk.split("\n", 2)
        key, title = (p.strip() for p in head.split("|", 1))
        category, _, tags = meta.partition(";")
        out.append(
            CorpusArticle(
                key=key,
                title=title,
                category=category.split(":", 1)[1].strip(),
                tags=[t.strip() for t in tags.split(":", 1)[1].split(",")],
                body=body.strip(),
            )
        )
    return out


def questions() -> list[tuple[str, str]]:
    """(question, key of the article that answers it)."""
    return [(q["q"], q["article"]) for q in json.loads((HERE / "questions.json").read_text())]
