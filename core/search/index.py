"""Keeping ``search_entries`` current, in the transaction of the change.

What changed is noted as it happens (a flush's new and changed tickets, comments and people,
and ``ticket.created`` events for tickets inserted with Core statements); just before the real
commit (not a savepoint's release) the noted rows are rebuilt from the database in a few
statements: one SELECT of their text, one DELETE of their old entries, one INSERT. So whatever
wrote the change (a service, intake, a rule, erasure, retention), the index commits with it.
Features that add text to a ticket's own row register a provider and call ``reindex_tickets``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import (
    String,
    Table,
    bindparam,
    case,
    delete,
    event,
    false,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from core.db import TEXT_SEARCH_LANGUAGES
from core.models import Comment, Tenant, Ticket, User
from core.search.models import SearchEntry
from core.services import events
from core.textcap import MAX_SEARCH_TEXT

TextProvider = Callable[[Session, list[int]], dict[int, str]]
_providers: list[TextProvider] = []

LANGUAGES = TEXT_SEARCH_LANGUAGES
DEFAULT_LANGUAGE = "english"
SETTING = "search_language"
# The snippet markers: private-use characters, taken out of every indexed text.
MARK_START, MARK_END = "\ue000", "\ue001"
_STRIP = str.maketrans({MARK_START: " ", MARK_END: " "})
ENTRIES = cast(Table, SearchEntry.__table__)
_INSERT = insert(ENTRIES)


def register_ticket_text(provider: TextProvider) -> None:
    """Add text to tickets' own index rows: ``provider(session, ticket_ids)`` returns
    ``{ticket_id: text}`` (tags, custom field values...) for the tickets it has text for.
    Call ``reindex_tickets`` when that text changes. Idempotent."""
    if provider not in _providers:
        _providers.append(provider)


def unregister_ticket_text(provider: TextProvider) -> None:
    if provider in _providers:
        _providers.remove(provider)


def reindex_tickets(session: Session, ticket_ids: Iterable[int]) -> None:
    """Rebuild these tickets' own rows (subject, description, requester, providers' text)
    before the transaction commits."""
    _pending(session).tickets.update(ticket_ids)


def reindex_comments(session: Session, comment_ids: Iterable[int]) -> None:
    """Rebuild these comments' rows before the transaction commits."""
    _pending(session).comments.update(comment_ids)


def language(session: Session, tenant_id: uuid.UUID) -> str:
    """The tenant's search language (``settings["search_language"]``), English by default."""
    tenant = session.get(Tenant, tenant_id)
    return _language_of(tenant.settings if tenant else None)


def _language_of(settings: dict[str, Any] | None) -> str:
    lang = str((settings or {}).get(SETTING, DEFAULT_LANGUAGE))
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def config_name(lang: str) -> str:
    """The PostgreSQL text-search configuration of a language (made by ``0040_search``)."""
    return f"hub_{lang if lang in LANGUAGES else DEFAULT_LANGUAGE}"


def clean(value: str | None) -> str:
    return (value or "").translate(_STRIP)[:MAX_SEARCH_TEXT]


def person_text(full_name: str | None, email: str | None) -> str:
    """The requester as indexed: the name, the address, and the address's parts (``alice
    example com``), so that a part finds it on PostgreSQL too, whose parser keeps an address
    as one token. Migration ``0040_search`` builds the same text in SQL."""
    address = email or ""
    parts = address.replace("@", " ").replace(".", " ")
    return clean(f"{full_name or ''} {address} {parts}")


@dataclass
class _Pending:
    tickets: set[int] = field(default_factory=set)
    new_tickets: set[int] = field(default_factory=set)
    comments: set[int] = field(default_factory=set)
    new_comments: set[int] = field(default_factory=set)
    # What a flush wrote of new comments: their rows are built from it, without a SELECT.
    comment_values: dict[int, tuple[uuid.UUID, int, str, bool]] = field(default_factory=dict)
    users: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.tickets or self.new_tickets or self.comments or self.new_comments) or bool(
            self.users
        )


def _pending(session: Session) -> _Pending:
    found = session.info.get("search_pending")
    if found is None:
        found = session.info["search_pending"] = _Pending()
    return cast(_Pending, found)


def _changed(obj: Any, *names: str) -> bool:
    state = sa_inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: Any) -> None:
    pending: _Pending | None = None
    for obj in session.new:
        if isinstance(obj, Ticket):
            (pending := pending or _pending(session)).new_tickets.add(obj.id)
        elif isinstance(obj, Comment):
            pending = pending or _pending(session)
            pending.new_comments.add(obj.id)
            pending.comment_values[obj.id] = (
                obj.tenant_id,
                obj.ticket_id,
                obj.comment,
                bool(obj.is_internal),
            )
    for obj in session.dirty:
        if isinstance(obj, Ticket) and _changed(obj, "subject", "description", "created_by"):
            (pending := pending or _pending(session)).tickets.add(obj.id)
        elif isinstance(obj, Comment) and _changed(obj, "comment", "is_internal", "ticket_id"):
            (pending := pending or _pending(session)).comments.add(obj.id)
        elif isinstance(obj, User) and _changed(obj, "full_name", "email"):
            (pending := pending or _pending(session)).users.add(obj.id)


def _on_event(session: Session, ev: events.EventLike, _actor: Any) -> None:
    # Tickets written by create_tickets' Core INSERT are never "new" in a flush.
    if ev.event_type == events.TICKET_CREATED and ev.ticket_id is not None:
        _pending(session).new_tickets.add(ev.ticket_id)


events.add_listener(_on_event)


@event.listens_for(Session, "before_commit")
def _save_before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    if not session.info.get("search_pending") and not session.new and not session.dirty:
        return
    session.flush()
    save(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, _previous: Any = None) -> None:
    if not session.in_nested_transaction():
        session.info.pop("search_pending", None)


def save(session: Session) -> None:
    """Write the noted rows' entries now (``before_commit`` does it)."""
    pending: _Pending | None = session.info.pop("search_pending", None)
    if not pending:
        return
    tickets = set(pending.tickets)
    if pending.users:
        tickets.update(
            session.scalars(select(Ticket.id).where(Ticket.created_by.in_(pending.users)))
        )
    old_tickets = tickets - pending.new_tickets
    tickets |= pending.new_tickets
    comments = pending.comments | pending.new_comments
    old_comments = pending.comments - pending.new_comments
    if old_tickets:
        session.execute(
            delete(SearchEntry)
            .where(SearchEntry.ticket_id.in_(old_tickets), SearchEntry.comment_id.is_(None))
            .execution_options(synchronize_session=False)
        )
    if old_comments:
        session.execute(
            delete(SearchEntry)
            .where(SearchEntry.comment_id.in_(old_comments))
            .execution_options(synchronize_session=False)
        )
    known = {
        cid: v
        for cid, v in pending.comment_values.items()
        if cid not in pending.comments  # changed again after its INSERT: read it back
    }
    # A ticket created in this transaction has providers' text (tags, field values) only if
    # someone wrote it, and writers call ``reindex_tickets`` (the providers' contract): the
    # others skip the providers' queries, most of the index's cost of a new ticket.
    # Those rows are built by the database from the ticket, in one INSERT ... SELECT.
    plain = pending.new_tickets - pending.tickets
    if plain:
        postgres = session.get_bind().dialect.name == "postgresql"
        session.execute(_plain_ticket_rows(postgres), {"ids": sorted(plain)})
    rows = ticket_rows(session, sorted(tickets - plain))
    rows += comment_rows(session, sorted(comments - set(known)))
    rows += _rows_of_comments(session, [(cid, *v) for cid, v in sorted(known.items())])
    if rows:
        session.execute(_INSERT, rows)


def _configs(session: Session, tenant_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if session.get_bind().dialect.name != "postgresql":
        # Only PostgreSQL reads the configuration (FTS5 has one tokenizer for every row).
        return dict.fromkeys(tenant_ids, config_name(DEFAULT_LANGUAGE))
    return {tid: config_name(language(session, tid)) for tid in tenant_ids}


def ticket_rows(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    """The own rows of these tickets, as values for ``search_entries``: one query for the
    tickets, their requesters and their tenants' languages, then one per provider."""
    if not ids:
        return []
    found = session.execute(
        select(
            Ticket.id,
            Ticket.tenant_id,
            Ticket.subject,
            Ticket.description,
            User.full_name,
            User.email,
            Tenant.settings,
        )
        .join(User, User.id == Ticket.created_by)
        .join(Tenant, Tenant.id == Ticket.tenant_id)
        .where(Ticket.id.in_(ids))
    ).all()
    more: dict[int, list[str]] = {}
    for provider in list(_providers):
        for ticket_id, words in provider(session, ids).items():
            more.setdefault(ticket_id, []).append(words)
    postgres = session.get_bind().dialect.name == "postgresql"
    configs = {
        r.tenant_id: config_name(_language_of(r.settings) if postgres else DEFAULT_LANGUAGE)
        for r in found
    }
    return [
        {
            "tenant_id": r.tenant_id,
            "ticket_id": r.id,
            "comment_id": None,
            "is_internal": False,
            "title": clean(r.subject),
            "body": clean(r.description),
            "person": person_text(r.full_name, r.email),
            "more": clean(" ".join(more.get(r.id, []))),
            "config": configs[r.tenant_id],
        }
        for r in found
    ]


def _cleaned(value: Any) -> Any:
    """``clean`` in SQL: the two marks blanked, cut at the index's length."""
    blanked = func.replace(func.replace(func.coalesce(value, ""), MARK_START, " "), MARK_END, " ")
    return func.substr(blanked, 1, MAX_SEARCH_TEXT)


@functools.cache
def _plain_ticket_rows(postgres: bool) -> Any:
    """``INSERT ... SELECT`` of the ``ids`` tickets' own rows without providers' text: the same
    values as ``ticket_rows`` (``test_search_api`` compares them), with no round trip to read
    the ticket, its requester and its tenant's language first. Built once per dialect."""
    email = func.coalesce(User.email, "")
    parts = func.replace(func.replace(email, "@", " "), ".", " ")
    person = _cleaned(func.coalesce(User.full_name, "") + " " + email + " " + parts)
    default = literal(config_name(DEFAULT_LANGUAGE), String)
    if postgres:
        from sqlalchemy.dialects.postgresql import REGCONFIG

        chosen = Tenant.settings[SETTING].as_string()
        config: Any = sql_cast(
            case((chosen.in_(LANGUAGES), literal("hub_", String) + chosen), else_=default),
            REGCONFIG,
        )
    else:
        config = default  # FTS5 has one tokenizer for every row
    rows = (
        select(
            Ticket.tenant_id,
            Ticket.id,
            null(),
            false(),
            _cleaned(Ticket.subject),
            _cleaned(Ticket.description),
            person,
            literal("", String),
            config,
        )
        .join(User, User.id == Ticket.created_by)
        .join(Tenant, Tenant.id == Ticket.tenant_id)
        .where(Ticket.id.in_(bindparam("ids", expanding=True)))
    )
    columns = [
        "tenant_id",
        "ticket_id",
        "comment_id",
        "is_internal",
        "title",
        "body",
        "person",
        "more",
        "config",
    ]
    return insert(ENTRIES).from_select(columns, rows)


def comment_rows(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    """The rows of these comments, as values for ``search_entries``."""
    if not ids:
        return []
    found = session.execute(
        select(
            Comment.id, Comment.tenant_id, Comment.ticket_id, Comment.comment, Comment.is_internal
        ).where(Comment.id.in_(ids))
    ).all()
    return _rows_of_comments(session, [(r[0], r[1], r[2], r[3], r[4]) for r in found])


def _rows_of_comments(
    session: Session, found: list[tuple[int, uuid.UUID, int, str, bool]]
) -> list[dict[str, Any]]:
    """Index rows of (id, tenant_id, ticket_id, text, is_internal) comments."""
    if not found:
        return []
    configs = _configs(session, {tenant_id for _, tenant_id, *_ in found})
    return [
        {
            "tenant_id": tenant_id,
            "ticket_id": ticket_id,
            "comment_id": cid,
            "is_internal": bool(internal),
            "title": "",
            "body": clean(body),
            "person": "",
            "more": "",
            "config": configs[tenant_id],
        }
        for cid, tenant_id, ticket_id, body, internal in found
    ]


def rebuild(session: Session, tenant_id: uuid.UUID, *, chunk: int = 2000) -> int:
    """Drop and rebuild the tenant's whole index (``hub search rebuild``); returns how many
    tickets. The caller commits."""
    session.flush()
    session.info.pop("search_pending", None)
    session.execute(delete(SearchEntry).where(SearchEntry.tenant_id == tenant_id))
    last_id, count = 0, 0
    while True:
        ids = list(
            session.scalars(
                select(Ticket.id)
                .where(Ticket.tenant_id == tenant_id, Ticket.id > last_id)
                .order_by(Ticket.id)
                .limit(chunk)
            )
        )
        if not ids:
            return count
        comment_ids = list(
            session.scalars(
                select(Comment.id).where(Comment.ticket_id.in_(ids)).order_by(Comment.id)
            )
        )
        rows = ticket_rows(session, ids)
        for start in range(0, len(comment_ids), chunk):
            rows += comment_rows(session, comment_ids[start : start + chunk])
        if rows:
            session.execute(_INSERT, rows)
        count += len(ids)
        last_id = ids[-1]


def set_config(session: Session, tenant_id: uuid.UUID, lang: str) -> int:
    """Point the tenant's entries at a language's configuration (PostgreSQL recomputes each
    ``tsv``); returns how many rows."""
    result = session.execute(
        update(SearchEntry)
        .where(SearchEntry.tenant_id == tenant_id, or_(SearchEntry.config != config_name(lang)))
        .values(config=config_name(lang))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
