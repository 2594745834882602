"""Redaction of audit rows by an erasure, without breaking the hash chain.

An erased person's address and name are in audit rows (members added, tickets assigned to them,
their sign-ins), and those rows are links of a hash chain that nothing else may rewrite. The
design chosen here: the redacted row keeps its place and its links (``seq``, ``prev_hash``,
``row_hash`` unchanged, so the rows around it, the checkpoint and the head still verify), its
personal columns (``Chain.personal``) are rewritten, and the erasure's own audit row, sealed in
the same transaction, vouches for what the rows now hold: per chain the number of rows it
redacted, the lowest seq, and a digest of ``chain|seq|row_hash|sha256(canonical content)`` over
those rows. ``verify`` accepts a row marked ``redacted_by`` only if a sealed erasure row names
that redaction and the rows marked with it match the count and the digest; so a row changed by
hand (even if marked as redacted), a redaction without an erasure, a marked row swapped for
another, or a redacted row edited afterwards is found. An erasure that redacts rows an earlier
one redacted restates that earlier redaction's summary (``restated``), and the latest statement
counts.

Why not re-link the chain after the redacted rows (the way pruning leaves a checkpoint): every
row after the first redacted one would have to be rehashed, which for a person who appears
early in a large trail is the whole chain, under the head lock. Why not commit the personal
columns by per-column digests inside the hash: the rows written before this change hash the
plain values, and they must both still verify and be redactable; the vouching works for both.

The salt: since migration 0050 the sealer puts a random salt into each new row's hash, and the
redaction drops it. Without that, the untouched old ``row_hash`` would let someone holding the
database confirm a guessed address (rehash the row with the guess put back). Rows sealed before
0050 have no salt, so for them such a guess stays checkable: redacted, they hold no personal
data, but their hash is not proof against a confirmation by someone who already has a candidate.

On PostgreSQL the append-only trigger lets the redaction's UPDATE through only with
``hub.audit_redact`` set for the transaction, only on sealed rows, changing only the personal
columns, and only marking the row and dropping its salt (migration 0050_audit_redaction).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Text, cast, func, or_, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from core.audit_chain.chain import CHAINS, Chain, canonical
from core.audit_chain.seal import seal_chain

# Ticket-trail actions whose old and new values are user ids (core.services.tickets): where the
# account stays (shared with another organisation) they point at the placeholder instead.
USER_VALUE_ACTIONS = ("Assignment",)


def row_line(chain: str, seq: int, row_hash: str, content: Mapping[str, Any]) -> str:
    """What a redaction's summary commits for one row: its place, its link and what it holds."""
    body = hashlib.sha256(canonical(seq, dict(content)).encode()).hexdigest()
    return f"{chain}|{seq}|{row_hash}|{body}"


def summarize(lines: Iterable[tuple[int, str]]) -> dict[str, Any]:
    """The summary of one chain's rows of a redaction: count, lowest seq, digest (seq order)."""
    ordered = sorted(lines)
    digest = hashlib.sha256("\n".join(line for _, line in ordered).encode()).hexdigest()
    return {"rows": len(ordered), "first": ordered[0][0] if ordered else 0, "digest": digest}


@dataclass
class Redaction:
    """What a redaction did: its id and, per chain, the summary its erasure row records; the
    summaries of earlier redactions whose rows it rewrote again (``restated``)."""

    id: str
    chains: dict[str, dict[str, Any]] = field(default_factory=dict)
    restated: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(int(s["rows"]) for s in self.chains.values())

    def record(self) -> dict[str, Any]:
        """The ``redaction`` entry of the erasure row's details."""
        out: dict[str, Any] = {"id": self.id, **self.chains}
        if self.restated:
            out["restated"] = self.restated
        return out


def _allow(session: Session, on: bool) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT set_config('hub.audit_redact', :v, true)"), {"v": "on" if on else "off"}
        )


def _rewrite(value: Any, pattern: re.Pattern[str], replacement: str, is_json: bool) -> Any:
    if value is None:
        return None
    if is_json:
        raw = json.dumps(value, ensure_ascii=False)
        new = pattern.sub(lambda _m: replacement, raw)
        return json.loads(new) if new != raw else value
    if isinstance(value, str):
        return pattern.sub(lambda _m: replacement, value)
    return value


def redact(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    needles: list[str],
    pattern: re.Pattern[str],
    replacement: str,
    user_id: int,
    new_user_id: int | None,
) -> Redaction:
    """Rewrite the tenant's audit rows that name the person: ``pattern`` (which finds the
    ``needles``) replaced by ``replacement`` in their personal text and JSON columns, their user
    id replaced by ``new_user_id`` (None: kept, the account itself is pseudonymised; where it is
    not, in the actor columns, the values of an assignment and a ``user_id`` of the details) and
    the IP address of rows about them blanked. Seals what waits first and keeps both chain heads locked
    until the caller commits; the caller records ``Redaction.record()`` in its own audit row and
    seals it in the same transaction."""
    done = Redaction(id=secrets.token_hex(16))
    touched: set[str] = set()
    for chain in CHAINS:
        while seal_chain(session, chain, tenant_id):
            pass
        lines = _redact_chain(
            session, chain, tenant_id, done.id, needles, pattern, replacement, user_id, new_user_id
        )
        if lines:
            done.chains[chain.name] = summarize(lines.pop(done.id, []))
            touched.update(lines)
    for earlier in sorted(touched):
        done.restated[earlier] = {}
        for chain in CHAINS:
            rows = current_lines(session, chain, tenant_id, earlier)
            if rows:
                done.restated[earlier][chain.name] = summarize(rows)
    done.chains = {k: v for k, v in done.chains.items() if v["rows"]}
    return done


def _redact_chain(
    session: Session,
    chain: Chain,
    tenant_id: uuid.UUID,
    rid: str,
    needles: list[str],
    pattern: re.Pattern[str],
    replacement: str,
    user_id: int,
    new_user_id: int | None,
) -> dict[str, list[tuple[int, str]]]:
    """Redact one chain; returns the lines of the rows now marked ``rid`` under ``rid``, and the
    ids of the earlier redactions whose rows this one took over (with no lines)."""
    t = chain.table
    personal = [t.c[name] for name in chain.personal]
    texts = [c for c in personal if isinstance(c.type, String | JSON)]
    users = [c for c in personal if c.name in ("performed_by", "actor_id")]
    conds: list[Any] = [
        func.lower(cast(c, Text)).contains(n.lower(), autoescape=True)
        for c in texts
        for n in needles
    ]
    conds += [c == user_id for c in users]
    if "old_value" in chain.personal and new_user_id is not None:
        as_text = str(user_id)
        conds.append(
            t.c.action.in_(USER_VALUE_ACTIONS)
            & or_(t.c.old_value == as_text, t.c.new_value == as_text)
        )
    rows = (
        session.execute(
            select(*chain.content, t.c.seq, t.c.row_hash, t.c.redacted_by).where(
                t.c.tenant_id == tenant_id, t.c.seq.is_not(None), or_(*conds)
            )
        )
        .mappings()
        .all()
    )
    out: dict[str, list[tuple[int, str]]] = {}
    if rows:
        _allow(session, True)
    for row in rows:
        values: dict[str, Any] = {}
        about_them = False
        for c in personal:
            old = row[c.name]
            if c in users:
                if old == user_id:
                    about_them = True
                    if new_user_id is not None and new_user_id != old:
                        values[c.name] = new_user_id
                continue
            if c.name == "ip":
                continue
            if (
                new_user_id is not None
                and c.name in ("old_value", "new_value")
                and row["action"] in USER_VALUE_ACTIONS
                and old == str(user_id)
            ):
                values[c.name] = str(new_user_id)
                continue
            new = _rewrite(old, pattern, replacement, isinstance(c.type, JSON))
            if new_user_id is not None and isinstance(new, dict) and new.get("user_id") == user_id:
                new = {**new, "user_id": new_user_id}
            if new != old:
                values[c.name] = new
                about_them = about_them or c.name in ("actor_email", "target_email")
        if "ip" in chain.personal and about_them and row["ip"]:
            values["ip"] = ""
        if not values:
            continue
        session.execute(
            update(t)
            .where(t.c.id == row["id"])
            .values(**values, salt=None, redacted_by=rid)
            .execution_options(synchronize_session=False)
        )
        if row["redacted_by"] is not None and row["redacted_by"] != rid:
            out.setdefault(row["redacted_by"], [])
        content = {c.name: values.get(c.name, row[c.name]) for c in chain.content}
        out.setdefault(rid, []).append(
            (row["seq"], row_line(chain.name, row["seq"], row["row_hash"], content))
        )
    if rows:
        _allow(session, False)
    return out


def current_lines(
    session: Session, chain: Chain, tenant_id: uuid.UUID, rid: str
) -> list[tuple[int, str]]:
    """The lines of the rows of one chain marked with a redaction, as they are now."""
    t = chain.table
    rows = (
        session.execute(
            select(*chain.content, t.c.seq, t.c.row_hash).where(
                t.c.tenant_id == tenant_id, t.c.redacted_by == rid, t.c.seq.is_not(None)
            )
        )
        .mappings()
        .all()
    )
    return [
        (
            r["seq"],
            row_line(
                chain.name, r["seq"], r["row_hash"], {c.name: r[c.name] for c in chain.content}
            ),
        )
        for r in rows
    ]
