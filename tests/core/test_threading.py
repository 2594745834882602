"""Threading at the service level (``core.intake.threading``): every rule alone, every order
conflict (the earlier rule wins and is the recorded reason), never across tenants; and the same
answers whether the messages come one at a time (``ingest``) or in one batch (``ingest_many``).
The socket tests in tests/plugins/email/test_threading.py cover the mail channel end to end."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, select

from core.intake import InboundMessage, IngestResult, ingest, ingest_many
from core.intake.refs import BatchReferences, StoredReferences
from core.intake.threading import (
    RULES,
    ThreadContext,
    find_thread,
    referenced_ticket,
)
from core.models import Audit, Comment, Ticket

JANE = "jane@customer.test"
CHANNEL = "test"
# Each rule's recorded reason (the plugin hook's names the channel).
REASONS = {
    "references": "references",
    "plugin_thread": f"{CHANNEL} thread",
    "reply_address": "reply address",
    "channel_thread": "channel thread",
    "subject_token": "subject token",
}
NAMES = list(REASONS)


def thread_hook(session: Any, tenant_id: uuid.UUID, msg: InboundMessage) -> int | None:
    """A channel plugin's ``hub_thread_message``: the ticket its own thread id names."""
    return msg.meta.get("thread")


def _kw(hub: Any) -> dict[str, Any]:
    return {
        "store": hub.blob_store,
        "policy": hub.attachment_policy,
        "thread_hook": thread_hook,
        "verify_token": hub.verify_ticket_token,
        "verify_recipient": hub.verify_token_recipient,
    }


def one_at_a_time(hub: Any, items: list[tuple[uuid.UUID, InboundMessage]]) -> list[IngestResult]:
    results = []
    for tenant_id, msg in items:
        with hub.session() as s:
            results.append(ingest(s, tenant_id, msg, **_kw(hub)))
    return results


def in_one_batch(hub: Any, items: list[tuple[uuid.UUID, InboundMessage]]) -> list[IngestResult]:
    with hub.session() as s:
        return ingest_many(s, items, **_kw(hub))


PATHS = {"single": one_at_a_time, "batch": in_one_batch}
Path = Callable[[Any, list[tuple[uuid.UUID, InboundMessage]]], list[IngestResult]]


@pytest.fixture(params=list(PATHS))
def path(request: pytest.FixtureRequest) -> Path:
    return PATHS[request.param]


def message(sender: str = JANE, **kw: Any) -> InboundMessage:
    return InboundMessage(
        channel=CHANNEL, dedupe_key=uuid.uuid4().hex, sender_email=sender, **{"body": "reply", **kw}
    )


def open_ticket(hub: Any, tenant_id: uuid.UUID, ref: str | None = None) -> int:
    """Jane opens a ticket with a message whose id (``ref``) is recorded for it."""
    ref = ref or f"<{uuid.uuid4().hex}@customer.test>"
    [result] = one_at_a_time(
        hub, [(tenant_id, message(subject="VPN down", body="It is down.", message_ref=ref))]
    )
    assert result.outcome == "ticket"
    return int(result.ticket_id or 0)


def stored_ref(hub: Any, ticket_id: int) -> str:
    from core.models import ExternalRef

    with hub.session() as s:
        return str(
            s.scalar(
                select(ExternalRef.value).where(
                    ExternalRef.ticket_id == ticket_id, ExternalRef.kind == "message_id"
                )
            )
        )


def matching(hub: Any, rule: str, tenant_id: uuid.UUID, ticket_id: int) -> dict[str, Any]:
    """The message fields by which ``rule`` (and only it) finds ``ticket_id``."""
    return {
        "references": lambda: {"references": [stored_ref(hub, ticket_id)]},
        "plugin_thread": lambda: {"meta": {"thread": ticket_id}},
        "reply_address": lambda: {"thread_token": hub.ticket_token(tenant_id, ticket_id)},
        "channel_thread": lambda: {"ticket_hint": ticket_id},
        "subject_token": lambda: {"subject": f"Re: [#{ticket_id}] VPN down"},
    }[rule]()


def audited_reason(hub: Any, result: IngestResult) -> str:
    action = "Inbound Threaded" if result.outcome == "comment" else "Inbound Received"
    with hub.session() as s:
        return str(
            s.scalar(
                select(Audit.new_value)
                .where(Audit.ticket_id == result.ticket_id, Audit.action == action)
                .order_by(Audit.id.desc())
                .limit(1)
            )
        )


def test_the_rules_and_their_order() -> None:
    assert [rule.__name__ for rule in RULES] == NAMES


@pytest.mark.parametrize("rule", NAMES)
def test_each_rule_alone(hub, make_tenant, path, rule) -> None:  # type: ignore[no-untyped-def]
    tenant_id, _ = make_tenant()
    ticket_id = open_ticket(hub, tenant_id)
    [result] = path(hub, [(tenant_id, message(**matching(hub, rule, tenant_id, ticket_id)))])
    assert (result.outcome, result.ticket_id, result.reason) == (
        "comment",
        ticket_id,
        REASONS[rule],
    )
    assert audited_reason(hub, result) == REASONS[rule]


@pytest.mark.parametrize(("earlier", "later"), list(itertools.combinations(NAMES, 2)))
def test_the_earlier_rule_wins(hub, make_tenant, path, earlier, later) -> None:  # type: ignore[no-untyped-def]
    tenant_id, _ = make_tenant()
    first, second = open_ticket(hub, tenant_id), open_ticket(hub, tenant_id)
    # The earlier rule names the newer ticket, so that neither id order nor age decides.
    msg = message(
        **matching(hub, earlier, tenant_id, second), **matching(hub, later, tenant_id, first)
    )
    [result] = path(hub, [(tenant_id, msg)])
    assert (result.outcome, result.ticket_id, result.reason) == (
        "comment",
        second,
        REASONS[earlier],
    )
    assert audited_reason(hub, result) == REASONS[earlier]


@pytest.mark.parametrize("rule", NAMES)
def test_no_rule_crosses_tenants(hub, make_tenant, path, rule) -> None:  # type: ignore[no-untyped-def]
    """A reference, reply token, plugin thread, hint or subject token of tenant A's ticket,
    sent to tenant B, opens a new ticket of B's and leaves A's alone."""
    tenant_a, _ = make_tenant()
    tenant_b, _ = make_tenant()
    theirs = open_ticket(hub, tenant_a)
    open_ticket(hub, tenant_b)  # B has tickets of its own, with ids of their own
    [result] = path(hub, [(tenant_b, message(**matching(hub, rule, tenant_a, theirs)))])
    assert (result.outcome, result.reason) == ("ticket", "new conversation")
    assert result.ticket_id != theirs
    with hub.session() as s:
        assert s.get(Ticket, result.ticket_id).tenant_id == tenant_b
        assert list(s.scalars(select(Comment.id).where(Comment.ticket_id == theirs))) == []


def test_the_same_message_id_in_two_tenants_threads_in_each(hub, make_tenant, path) -> None:  # type: ignore[no-untyped-def]
    """One mail sent to two tenants' addresses: each tenant's reply finds its own ticket."""
    tenant_a, _ = make_tenant()
    tenant_b, _ = make_tenant()
    ref = "<same@customer.test>"
    mine, theirs = open_ticket(hub, tenant_a, ref), open_ticket(hub, tenant_b, ref)
    results = path(
        hub, [(tenant_a, message(references=[ref])), (tenant_b, message(references=[ref]))]
    )
    assert [(r.ticket_id, r.reason) for r in results] == [
        (mine, "references"),
        (theirs, "references"),
    ]


def test_a_match_is_kept_only_for_someone_on_the_ticket(hub, make_tenant, path) -> None:  # type: ignore[no-untyped-def]
    tenant_id, _ = make_tenant()
    ticket_id = open_ticket(hub, tenant_id)
    stranger = message("mallory@evil.test", **matching(hub, "subject_token", tenant_id, ticket_id))
    [result] = path(hub, [(tenant_id, stranger)])
    assert result.outcome == "ticket" and result.ticket_id != ticket_id
    assert result.reason == f"subject token matched #{ticket_id} but the sender is not on it"


def test_references_follow_a_merge(hub, make_tenant, path) -> None:  # type: ignore[no-untyped-def]
    tenant_id, _ = make_tenant()
    source, target = open_ticket(hub, tenant_id), open_ticket(hub, tenant_id)
    with hub.session() as s:
        s.get(Ticket, source).merged_into_id = target
    [result] = path(hub, [(tenant_id, message(**matching(hub, "references", tenant_id, source)))])
    assert (result.ticket_id, result.reason) == (target, "references")


def test_one_batch_answers_as_one_message_at_a_time(hub, make_tenant) -> None:  # type: ignore[no-untyped-def]
    """The same messages, one at a time or in one batch: the same tickets and reasons, also
    where a message replies to one earlier in the batch or repeats it."""

    def scenario() -> list[tuple[uuid.UUID, InboundMessage]]:
        tenant_a, _ = make_tenant()
        tenant_b, _ = make_tenant()
        stored = open_ticket(hub, tenant_a)
        opening = message(subject="Printer", message_ref="<p1@customer.test>")
        return [
            (tenant_a, opening),
            (tenant_a, message(references=["<p1@customer.test>"])),  # onto the batch's ticket
            (tenant_a, opening),  # a second copy
            (tenant_b, message(references=["<p1@customer.test>"])),  # not B's
            *[(tenant_a, message(**matching(hub, rule, tenant_a, stored))) for rule in NAMES],
        ]

    def answers(path: Path) -> list[tuple[str, str, str]]:
        items = scenario()
        results = path(hub, items)
        labels: dict[int | None, str] = {}
        return [
            (r.outcome, labels.setdefault(r.ticket_id, f"ticket {len(labels)}"), r.reason)
            for r in results
        ]

    single, batch = answers(one_at_a_time), answers(in_one_batch)
    assert single == batch
    assert [reason for _, _, reason in batch] == [
        "new conversation",
        "references",
        "already received as ticket",
        "new conversation",
        *REASONS.values(),
    ]


def test_stored_and_batch_references_find_the_same_ticket(hub, make_tenant) -> None:  # type: ignore[no-untyped-def]
    """The two forms of the references look-up behind the one rule (and behind
    ``referenced_ticket``, the auto-reply's look-up) agree, the newest reference winning."""
    tenant_a, _ = make_tenant()
    tenant_b, _ = make_tenant()
    old, new = (
        open_ticket(hub, tenant_a, "<old@c.test>"),
        open_ticket(hub, tenant_a, "<new@c.test>"),
    )
    b_ticket = open_ticket(hub, tenant_b, "<b@c.test>")
    items = [
        (tenant_a, message(references=["<old@c.test>", "<new@c.test>"])),
        (tenant_a, message(references=["<old@c.test>"])),
        (tenant_a, message(references=["<b@c.test>"])),
        (tenant_b, message(references=["<new@c.test>", "<b@c.test>"])),
        (tenant_a, message(references=["<unknown@c.test>"])),
    ]
    with hub.session() as s:
        batch = ThreadContext(BatchReferences.fetch(s, items))
        stored = ThreadContext(StoredReferences(s))
        found = [
            [
                (m.ticket.id, m.reason) if (m := find_thread(s, tid, msg, context)) else None
                for tid, msg in items
            ]
            for context in (batch, stored)
        ]
        direct = [getattr(referenced_ticket(s, tid, msg), "id", None) for tid, msg in items]
    assert found[0] == found[1]
    assert [hit and hit[0] for hit in found[0]] == direct == [new, old, None, b_ticket, None]


def _statements(hub: Any, items: list[tuple[uuid.UUID, InboundMessage]]) -> int:
    count = 0

    def counted(*_: Any) -> None:
        nonlocal count
        count += 1

    event.listen(hub.engine, "before_cursor_execute", counted)
    try:
        in_one_batch(hub, items)
    finally:
        event.remove(hub.engine, "before_cursor_execute", counted)
    return count


def test_a_batch_follows_references_without_a_query_per_message(hub, make_tenant) -> None:  # type: ignore[no-untyped-def]
    """The batch fetches the references of all its messages in one query: twice the replies
    cost at most their writes (one comment insert each on SQLite; on PostgreSQL the inserts go
    as one executemany), never a look-up per message."""
    tenant_id, _ = make_tenant()
    tickets = [open_ticket(hub, tenant_id) for _ in range(12)]
    refs = [stored_ref(hub, t) for t in tickets]
    few = _statements(hub, [(tenant_id, message(references=[r])) for r in refs[:4]])
    many = _statements(hub, [(tenant_id, message(references=[r])) for r in refs[4:]])
    # Four more messages: four more comment inserts on SQLite, none on PostgreSQL (one
    # executemany); a look-up per message would add four more on either.
    more_writes = 4 if hub.engine.dialect.name == "sqlite" else 0
    assert many - few == more_writes
