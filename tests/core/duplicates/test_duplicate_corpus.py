"""The duplicate scorer on the labelled pairs of tests/fixtures/duplicates/ (tuned on the
``tune`` half only): precision >= 0.9 and recall >= 0.7 on each half."""

from __future__ import annotations

from pathlib import Path

from core.duplicates import evaluation, similarity

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "duplicates" / "pairs.jsonl"


def test_corpus_has_200_labelled_pairs_of_both_kinds_in_two_disjoint_halves() -> None:
    pairs = evaluation.load(CORPUS)
    assert len(pairs) >= 200
    assert sum(p["duplicate"] for p in pairs) >= 100
    assert sum(not p["duplicate"] for p in pairs) >= 100
    groups = {s: {p["group"] for p in pairs if p["split"] == s} for s in ("tune", "test")}
    assert groups["tune"] and groups["test"] and not groups["tune"] & groups["test"]


def test_precision_and_recall_on_both_halves() -> None:
    scores = evaluation.evaluate(evaluation.load(CORPUS))
    for split in ("tune", "test"):
        s = scores[split]
        print(f"{split}: {s.pairs} pairs, precision {s.precision:.3f}, recall {s.recall:.3f}")
        assert s.precision >= 0.9, (split, s.misses)
        assert s.recall >= 0.7, (split, s.misses)


def test_quoted_history_and_signature_do_not_count() -> None:
    body = (
        "Is there any update?\n\nThanks,\nMaria\n\n"
        "On Tue, 3 Mar 2026 at 09:12, Maria <m@example.com> wrote:\n> The printer jams on every page"
    )
    assert similarity.strip_quotes_and_signature(body).strip() == "Is there any update?"
    assert "jam" not in similarity.prepare("Update?", body).words


def test_the_reason_names_who_and_what_matched() -> None:
    a = similarity.prepare("VPN drops every hour", "GlobalProtect disconnects every hour.")
    b = similarity.prepare("vpn keeps dropping", "my vpn drops every hour, globalprotect")
    match = similarity.similar(a, b)
    assert match is not None
    reason = match.reason("VPN drops every hour")
    assert reason.startswith("same requester, similar subject 'VPN drops every hour'")
    assert "vpn" in reason and f"{match.score:.2f}" in reason
