"""Suggestions: every enabled ranker (``hub_kb_suggest``) asked, their lists merged into one."""

from __future__ import annotations

import uuid

from core.types import HubContext, Suggestion


def suggest(
    hub: HubContext, tenant_id: uuid.UUID, text: str, *, limit: int, audience: str
) -> list[Suggestion]:
    """The articles that best answer ``text`` for ``audience``, from the tenant's rankers."""
    lists = hub.hooks(tenant_id).hub_kb_suggest(
        tenant_id=tenant_id, text=text, limit=limit, audience=audience, hub=hub
    )
    return merge_suggestions(lists, limit)


def merge_suggestions(lists: list[list[Suggestion] | None], limit: int) -> list[Suggestion]:
    """One list from every ranker's: best score first, each article once (its best score)."""
    best: dict[tuple[str, int], Suggestion] = {}
    for found in lists:
        for s in found or []:
            key = (s.url, s.article_id)
            if key not in best or s.score > best[key].score:
                best[key] = s
    return sorted(best.values(), key=lambda s: (-s.score, s.article_id))[:limit]
