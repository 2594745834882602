"""The search language is parsed by us: whatever is typed, only quoted words reach the index."""

from __future__ import annotations

import pytest

from core.errors import Invalid
from core.search import parse


def test_words_phrases_and_prefixes() -> None:
    q = parse('printer "paper jam" scree*')
    assert [(i.kind, i.words) for i in q.items] == [
        ("word", ("printer",)),
        ("phrase", ("paper", "jam")),
        ("prefix", ("scree",)),
    ]
    assert q.tsquery() == "'printer' & ('paper' <-> 'jam') & 'scree':*"
    assert q.fts5() == '"printer" "paper jam" "scree"*'


@pytest.mark.parametrize(
    "hostile",
    [
        "') OR 1=1 --",
        "a & b | !c <-> d:*",
        'NEAR("a" "b", 2) OR title:x',
        "'; DROP TABLE support_tickets; --",
        '"unterminated phrase',
        "x* * ** ^y {z} (w)",
    ],
)
def test_hostile_input_becomes_quoted_words(hostile: str) -> None:
    q = parse(hostile)
    for item in q.items:
        assert all(w.isalnum() for w in item.words)
    assert "--" not in q.tsquery() and ";" not in q.fts5()


@pytest.mark.parametrize("empty", ["", "   ", "***", '""', "&|!<->", "-- ;"])
def test_a_query_without_words_is_refused_on_q(empty: str) -> None:
    with pytest.raises(Invalid) as err:
        parse(empty)
    assert err.value.field == "q"


def test_too_many_items_is_refused() -> None:
    with pytest.raises(Invalid):
        parse(" ".join(f"w{i}" for i in range(20)))
