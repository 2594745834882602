"""Knowledge-base suggestion latency at 10,000 articles (floor: p50 under 20 ms).

Usage:
    .venv/bin/python -m bench.kb                         # SQLite in a temporary directory
    .venv/bin/python -m bench.kb --database-url postgresql://postgres@127.0.0.1:5432/kb_bench
    .venv/bin/python -m bench.kb --articles 10000 --rounds 5

The help centre of ``tests/kb_corpus`` is published with synthetic articles written from its
vocabulary until the tenant has ``--articles`` articles; then every corpus question is asked
``--rounds`` times through the tenant's ``hub_kb_suggest`` relay (what the API and the chat call).
Prints the figures; never fails on a timing (exit 0), except that ``--check`` exits 1 when p50 is
above the floor.
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert, text

from core.clock import now
from core.kb import articles as kb
from core.kb.suggestions import merge_suggestions
from core.models import KbArticle
from core.services import identity
from hub.context import Hub
from hub.migrate import upgrade
from hub.settings import Settings
from tests.kb_corpus import articles, questions

FLOOR_MS = 20.0


def _vocabulary() -> list[str]:
    words: list[str] = []
    for a in articles():
        words += re.findall(r"[a-z]{3,}", (a.title + " " + a.body).lower())
    return words


def _filler_words(rng: random.Random, mode: str) -> tuple[list[str], list[float]]:
    """The words synthetic articles are written with, and their weights.

    ``corpus``: only the help centre's own words (worst case: every article matches every
    question). ``mixed``: a Zipf-distributed vocabulary of 20,000 other words (product names,
    features, jargon) with the help centre's words mixed in at 30 %, like a large real help centre.
    """
    vocab = _vocabulary()
    if mode == "corpus":
        return vocab, [1.0] * len(vocab)
    letters = "abcdefghijklmnopqrstuvwxyz"
    other = sorted({"".join(rng.choices(letters, k=rng.randint(4, 10))) for _ in range(20_000)})
    weights = [1.0 / (rank + 1) for rank in range(len(other))]
    share = 0.3 * sum(weights) / 0.7 / len(vocab)
    return other + vocab, weights + [share] * len(vocab)


def _rows(
    tenant_id: uuid.UUID, count: int, rng: random.Random, mode: str
) -> list[dict[str, object]]:
    words, weights = _filler_words(rng, mode)
    cum = list(itertools.accumulate(weights))
    at = now()
    rows: list[dict[str, object]] = []
    for a in articles():
        html = kb.render_markdown(a.body)
        rows.append(_row(tenant_id, a.title, a.body, html, a.category, a.tags, at))
    while len(rows) < count:
        title = " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(3, 7))).capitalize()
        body = " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(80, 250)))
        rows.append(
            _row(
                tenant_id,
                title,
                body,
                f"<p>{body}</p>",
                "Other",
                rng.choices(words, cum_weights=cum, k=2),
                at,
            )
        )
    return rows


def _row(
    tenant_id: uuid.UUID,
    title: str,
    body: str,
    html: str,
    category: str,
    tags: list[str],
    at: object,
) -> dict[str, object]:
    return {
        "tenant_id": tenant_id,
        "title": title,
        "body": body,
        "body_html": html,
        "body_text": kb.plain_text(html),
        "category": category,
        "tags": tags,
        "tags_text": " ".join(tags),
        "status": "published",
        "visibility": "public",
        "search_scope": kb.search_scope(tenant_id, "published", "public"),
        "language": "english",
        "version": 1,
        "created_at": at,
        "updated_at": at,
        "published_at": at,
    }


def run(
    database_url: str, count: int, rounds: int, seed: int, filler: str = "mixed"
) -> dict[str, float]:
    """Fill a tenant with ``count`` articles and time suggestions; returns the figures in ms."""
    upgrade(database_url)
    data_dir = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    hub = Hub(
        Settings(
            database_url=database_url,
            data_dir=data_dir,
            base_url="http://bench",
            secret_key="bench-secret-key-0123456789",
            _env_file=None,
        )
    )  # type: ignore[call-arg]
    with hub.session() as s:
        tenant = identity.create_tenant(s, slug=f"bench-{uuid.uuid4().hex[:8]}", name="Bench")
        tenant_id = tenant.id
    rng = random.Random(seed)
    started = time.perf_counter()
    rows = _rows(tenant_id, count, rng, filler)
    with hub.session() as s:
        for i in range(0, len(rows), 1000):
            s.execute(insert(KbArticle), rows[i : i + 1000])
    # What autovacuum does on its own after a bulk load: fresh planner statistics.
    with hub.engine.connect() as conn:
        conn.execute(text("ANALYZE kb_articles"))
        conn.commit()
    load_s = time.perf_counter() - started
    relay = hub.hooks(tenant_id)
    asked = questions()
    timings: list[float] = []
    hits = 0
    keys = {a.title: a.key for a in articles()}
    for _ in range(rounds):
        for question, key in asked:
            t0 = time.perf_counter()
            found = merge_suggestions(
                relay.hub_kb_suggest(
                    tenant_id=tenant_id, text=question, limit=3, audience="public", hub=hub
                ),
                3,
            )
            timings.append((time.perf_counter() - t0) * 1000)
            hits += any(keys.get(f.title) == key for f in found)
    timings.sort()
    return {
        "articles": float(len(rows)),
        "load_s": load_s,
        "queries": float(len(timings)),
        "p50": statistics.median(timings),
        "p95": timings[int(len(timings) * 0.95) - 1],
        "p99": timings[int(len(timings) * 0.99) - 1],
        "max": timings[-1],
        "recall3": hits / len(timings),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument(
        "--filler",
        choices=("mixed", "corpus"),
        default="mixed",
        help="vocabulary of the synthetic articles (see _filler_words)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when p50 is over the floor")
    args = parser.parse_args(argv)
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='kb-bench-')}/bench.sqlite3"
    figures = run(url, args.articles, args.rounds, args.seed, args.filler)
    dialect = url.split(":", 1)[0]
    print(
        f"kb suggest on {dialect}: {int(figures['articles'])} articles "
        f"({args.filler} filler, loaded in {figures['load_s']:.1f} s), "
        f"{int(figures['queries'])} queries"
    )
    print(
        f"  p50 {figures['p50']:.2f} ms  p95 {figures['p95']:.2f} ms  "
        f"p99 {figures['p99']:.2f} ms  max {figures['max']:.2f} ms  (floor: p50 < {FLOOR_MS} ms)"
    )
    print(f"  recall@3 among {int(figures['articles'])} articles: {figures['recall3']:.3f}")
    ok = figures["p50"] < FLOOR_MS
    print("  p50 within the floor" if ok else "  p50 ABOVE the floor")
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
