"""Typed view of an inbound Jira webhook (Cloud and Server shapes; only what the hub uses)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Events with an effect on tickets; every other event is answered 200 and ignored.
HANDLED_EVENTS = ("jira:issue_updated", "jira:issue_deleted", "comment_created")


@dataclass(frozen=True)
class JiraComment:
    id: str
    body: str
    author_ids: tuple[str, ...]
    author_name: str


@dataclass(frozen=True)
class JiraWebhook:
    """One webhook: its event, the acting user, the issue, status change and comment."""

    event: str
    type_name: str
    user_ids: tuple[str, ...]
    issue_key: str | None
    issue_id: str | None
    labels: tuple[str, ...] = ()
    status_from: str | None = None
    status_to: str | None = None
    comment: JiraComment | None = None
    # When Jira sent it: the body's ``timestamp`` (ms since the epoch); None when absent or bad.
    sent_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    # Jira Server / Data Center send comment events without an ``issue`` object: the issue's id
    # is then read from ``comment.self`` (".../rest/api/2/issue/10013/comment/10082").
    issue_from_comment: bool = False


def _ids(user: Any) -> tuple[str, ...]:
    """Every identifier of a Jira user object (Cloud accountId, Server name/key, email)."""
    if not isinstance(user, dict):
        return ()
    return tuple(str(user[k]) for k in ("accountId", "name", "key", "emailAddress") if user.get(k))


def _status_change(doc: dict[str, Any]) -> tuple[str | None, str | None]:
    items = (doc.get("changelog") or {}).get("items") or []
    for item in items:
        if isinstance(item, dict) and str(item.get("field", "")).lower() == "status":
            return item.get("fromString"), item.get("toString")
    return None, None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sent_at(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


_COMMENT_SELF = re.compile(r"/rest/api/(?:\d+|latest)/issue/([^/]+)/comment/[^/]+/?$")


def parse(body: bytes) -> JiraWebhook:
    """Parse a webhook body; ValueError when it is not a Jira webhook."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("body is not JSON") from exc
    if not isinstance(doc, dict) or not doc.get("webhookEvent"):
        raise ValueError("not a Jira webhook (no webhookEvent)")
    issue = _object(doc.get("issue"))
    fields = _object(issue.get("fields"))
    comment = None
    raw_comment = doc.get("comment")
    if isinstance(raw_comment, dict) and raw_comment.get("id"):
        author = _object(raw_comment.get("author"))
        comment = JiraComment(
            id=str(raw_comment["id"]),
            body=str(raw_comment.get("body") or ""),
            author_ids=_ids(author),
            author_name=str(author.get("displayName") or author.get("name") or "someone"),
        )
    status_from, status_to = _status_change(doc)
    issue_key = issue.get("key")
    issue_id = str(issue["id"]) if issue.get("id") else None
    from_comment = False
    if not issue and isinstance(raw_comment, dict):
        match = _COMMENT_SELF.search(str(raw_comment.get("self") or ""))
        if match:
            ref, from_comment = match.group(1), True
            issue_key, issue_id = (ref, None) if not ref.isdigit() else (None, ref)
    return JiraWebhook(
        event=str(doc["webhookEvent"]),
        type_name=str(doc.get("issue_event_type_name") or ""),
        user_ids=_ids(doc.get("user")),
        issue_key=str(issue_key) if issue_key else None,
        issue_id=issue_id,
        labels=tuple(str(x) for x in fields.get("labels") or []),
        status_from=status_from,
        status_to=status_to,
        comment=comment,
        sent_at=_sent_at(doc.get("timestamp")),
        raw=doc,
        issue_from_comment=from_comment,
    )
