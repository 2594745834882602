"""The reply corpus (tests/fixtures/mail/replies, cases.tsv): every case's kept lines equal the
expected ones (taken from the source's own test, or read by hand and written down; lines
compared without their surrounding blanks, blank lines ignored), a score
per language and per client is printed, and no case loses a line the sender wrote."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from plugins.email.parsing import strip_quotes

REPLIES = Path(__file__).parents[2] / "fixtures" / "mail" / "replies"
FLOOR = 0.97
# "Signatures may stay": a trimmed reply may end with its signature when the expected text
# (from a source that hides signatures) stops before it.
SIGNATURE = re.compile(
    r"^(--\s*$|__+\s*$|sent from |sent a |sent with |get outlook|envoy[ée] (de|à partir|depuis)|"
    r"gesendet von|von meinem|sendt fra|skickat från|enviado desde|enviado do|inviato da|"
    r"verzonden met|wys[łl]ane z|отправлено с|-\w+ \w+$)",
    re.I,
)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _cases() -> list[list[str]]:
    rows = (REPLIES / "cases.tsv").read_text(encoding="utf-8").splitlines()
    return [row.split("\t") for row in rows if row and not row.startswith("#")]


def _judge(case: str) -> tuple[bool, list[str]]:
    text = (REPLIES / f"{case}.txt").read_text(encoding="utf-8")
    expected = _lines((REPLIES / f"{case}.expected.txt").read_text(encoding="utf-8"))
    got = _lines(strip_quotes(text))
    lost = [line for line in expected if line not in got]
    tail = got[len(expected) :]
    exact = got == expected or (
        got[: len(expected)] == expected
        and bool(SIGNATURE.match(tail[0].strip()))
        and (len(tail) <= 4 or tail[0].strip() in ("--", "-- "))
    )
    return exact, lost


def test_reply_corpus_scores_and_keeps_every_line_of_the_sender() -> None:
    cases = _cases()
    assert len({c[0] for c in cases}) == len(cases)
    by_language: dict[str, list[bool]] = defaultdict(list)
    by_client: dict[str, list[bool]] = defaultdict(list)
    failures, losses = [], []
    for case, language, client, *_ in cases:
        exact, lost = _judge(case)
        by_language[language].append(exact)
        by_client[client].append(exact)
        if not exact:
            failures.append(case)
        if lost:
            losses.append(f"{case}: {lost[:2]}")
    print(f"\nreply corpus: {len(cases)} cases, {len(cases) - len(failures)} exact")
    for title, table in (("language", by_language), ("client", by_client)):
        for key, results in sorted(table.items()):
            print(f"  {title:8} {key:28} {sum(results):3}/{len(results):3}")
    print("  not exact:", ", ".join(failures) or "none")
    assert not losses, losses
    assert (len(cases) - len(failures)) / len(cases) >= FLOOR, failures


@pytest.mark.parametrize(
    "text",
    [
        "I wanted to respond to your points:\n\n- the VPN drops\n- the printer jams",
        "Meeting on 2024-05-01 at 10:00 with bob@example.com:\nroom 4, bring the laptop",
        "Here is what I tried on Monday at 9:30:\n\n1. rebooted\n2. reinstalled",
        "The log says:\nERROR 2024-05-01 10:00:01 connection refused",
        "Something wrote:\nnothing, the job just stopped",
    ],
)
def test_a_senders_own_line_ending_in_a_colon_is_kept(text: str) -> None:
    assert strip_quotes(text) == text


def test_inline_answers_keep_every_line_between_the_quotes() -> None:
    text = (
        "On Mon, 1 Jan 2024 at 10:00, Ann <ann@example.com> wrote:\n"
        "> Is the VPN down?\n\nYes, since 9:00.\n\n> Which office?\n\nBerlin and Rome.\n"
    )
    assert strip_quotes(text) == "Yes, since 9:00.\n\nBerlin and Rome."
