"""Full-text search over every message of a ticket (subject, description, comments, requester,
and text other features register), on PostgreSQL's ``tsvector`` or SQLite's FTS5.

- ``register_ticket_text(fn)``: ``fn(session, ticket_ids) -> {ticket_id: text}`` adds text to
  tickets' own rows (tags, custom field values); call ``reindex_tickets(session, ids)`` when it
  changes. The index is rebuilt for those tickets before the transaction commits.
- ``prepare(session, actor, q)`` parses the search box's language (words, "phrases", prefix*);
  ``condition`` filters a ticket query with it, ``ranks`` orders by relevance, ``matches`` says
  where each ticket matched, with a highlighted snippet.
- ``rebuild(session, tenant_id)`` rebuilds a tenant's index (``hub search rebuild``);
  ``set_language`` changes the tenant's language (and the configuration of its rows).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.errors import Invalid
from core.models import Tenant
from core.permissions import Actor, require_admin
from core.search.find import Match, Search, condition, highlight, matches, prepare, ranks
from core.search.index import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    SETTING,
    config_name,
    language,
    rebuild,
    register_ticket_text,
    reindex_comments,
    reindex_tickets,
    save,
    set_config,
    unregister_ticket_text,
)
from core.search.models import SearchEntry
from core.search.query import Item, Query, parse
from core.services import events

LANGUAGE_CHANGED = "Search Language Changed"


def set_language(session: Session, actor: Actor, lang: str) -> bool:
    """Set the tenant's search language (admins); its index rows follow in this transaction.
    Returns False when it was already that language."""
    require_admin(actor, "change the search language")
    if lang not in LANGUAGES:
        raise Invalid(f"language must be one of {', '.join(LANGUAGES)}", field="language")
    tenant = session.get(Tenant, actor.tenant_id)
    assert tenant is not None
    old = language(session, actor.tenant_id)
    if old == lang and SETTING in (tenant.settings or {}):
        return False
    tenant.settings = {**(tenant.settings or {}), SETTING: lang}
    rows = set_config(session, actor.tenant_id, lang)
    events.audit(
        session,
        actor,
        action=LANGUAGE_CHANGED,
        ticket_id=None,
        old=old,
        new=lang,
        details={"rows": rows},
    )
    return True


__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_CHANGED",
    "Item",
    "Match",
    "Query",
    "Search",
    "SearchEntry",
    "condition",
    "config_name",
    "highlight",
    "language",
    "matches",
    "parse",
    "prepare",
    "ranks",
    "rebuild",
    "register_ticket_text",
    "reindex_comments",
    "reindex_tickets",
    "save",
    "set_config",
    "set_language",
    "unregister_ticket_text",
]
