"""Precision and recall of the duplicate scorer on a labelled set of pairs (JSON lines with
``split``, ``duplicate`` and the tickets ``a`` and ``b``), per split. Used by the corpus test
and ``bench/duplicates.py``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.duplicates import similarity


@dataclass
class Score:
    """The counts of one split and what follows from them."""

    pairs: int = 0
    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        flagged = self.true_pos + self.false_pos
        return self.true_pos / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_pos + self.false_neg
        return self.true_pos / wanted if wanted else 1.0


def load(path: Path) -> list[dict[str, Any]]:
    """The pairs of a JSON-lines file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def evaluate(
    pairs: list[dict[str, Any]], threshold: float = similarity.THRESHOLD
) -> dict[str, Score]:
    """A ``Score`` per split (and ``all``)."""
    scores: dict[str, Score] = {}
    for pair in pairs:
        a = similarity.prepare(pair["a"]["subject"], pair["a"]["body"])
        b = similarity.prepare(pair["b"]["subject"], pair["b"]["body"])
        flagged = similarity.compare(a, b).score >= threshold
        for name in (pair["split"], "all"):
            s = scores.setdefault(name, Score())
            s.pairs += 1
            if flagged and pair["duplicate"]:
                s.true_pos += 1
            elif flagged:
                s.false_pos += 1
                s.misses.append(f"false positive {pair['id']}")
            elif pair["duplicate"]:
                s.false_neg += 1
                s.misses.append(f"missed {pair['id']}")
    return scores
