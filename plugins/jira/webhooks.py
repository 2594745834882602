"""Inbound Jira webhooks: status changes follow ``status_map``, comments become internal notes.

Each delivery is handled once (``X-Atlassian-Webhook-Identifier`` and a hash of the signed body
as ``InboundKey`` rows, in the same transaction as its effects). Changes our own API user made,
and comments we posted, are recognised and dropped, so nothing echoes back and forth.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.api import (
    Changes,
    HubContext,
    Invalid,
    add_ticket_ref,
    get_ticket,
    record_seen,
    seen,
    system_actor,
    ticket_by_ref,
    ticket_exists,
    update_ticket,
)
from plugins.jira import client
from plugins.jira.client import label_for
from plugins.jira.escalation import ISSUE_KIND
from plugins.jira.notes import CHANNEL, add_note
from plugins.jira.outbound import COMMENT_KEYS
from plugins.jira.payloads import HANDLED_EVENTS, JiraWebhook
from plugins.jira.settings import JiraSettings

log = logging.getLogger(__name__)
COMMENT_EVENTS = ("comment_created", "jira:issue_updated")
# Dedupe keys of the signed content (seen-once keys beside the delivery ids).
CONTENT_KEYS = "jira-body"


def with_issue_key(hub: HubContext, settings: JiraSettings, hook: JiraWebhook) -> JiraWebhook:
    """A Server / Data Center comment event names its issue only by id (``comment.self``):
    fetch the issue's key and labels through the REST client, so that the ticket is found as
    for Cloud's events. Unchanged when Jira refuses (then: unknown issue); ``client.Retryable``
    when Jira cannot answer now, so that the delivery is refused and sent again."""
    if not hook.issue_from_comment or hook.issue_key or not hook.issue_id:
        return hook
    issue_id = hook.issue_id
    try:
        jira = client.connect(settings, hub.egress)
        issue = client.call(lambda: jira.issue(issue_id, fields="labels"))
    except client.Rejected as exc:  # no such issue, or not visible to our API user
        log.warning("jira: issue %s of a comment event could not be fetched: %s", issue_id, exc)
        return hook
    labels = tuple(str(x) for x in (getattr(issue.fields, "labels", None) or []))
    return replace(hook, issue_key=str(issue.key), labels=labels or hook.labels)


def find_ticket(s: Session, tenant_id: uuid.UUID, hook: JiraWebhook) -> int | None:
    """The ticket linked to the issue: by stored key, else by our label on the issue."""
    if hook.issue_key:
        ticket_id = ticket_by_ref(s, tenant_id, ISSUE_KIND, hook.issue_key)
        if ticket_id is not None:
            return ticket_id
    prefix = label_for(tenant_id, 0)[:-1]
    for label in hook.labels:
        number = label[len(prefix) :] if label.startswith(prefix) else ""
        if not number.isdigit():
            continue
        if not ticket_exists(s, tenant_id, int(number)):
            return None
        if hook.issue_key:
            add_ticket_ref(s, tenant_id, int(number), ISSUE_KIND, hook.issue_key)
        return int(number)
    return None


def _apply_status(
    s: Session, tenant_id: uuid.UUID, ticket_id: int, hook: JiraWebhook, settings: JiraSettings
) -> str:
    target = settings.status_map.get(hook.status_to or "")
    if target is None:
        return f"status {hook.status_to} not mapped"
    actor = system_actor(tenant_id)
    ticket = get_ticket(s, actor, ticket_id, for_update=True)
    if ticket.status == target:
        return "status unchanged"
    reason = f"Jira {hook.issue_key}: {hook.status_from} -> {hook.status_to}"
    try:
        update_ticket(
            s,
            actor,
            ticket,
            Changes(
                status=target,
                reason=reason,
                extra={"source": CHANNEL, "jira_issue": hook.issue_key},
            ),
        )
    except Invalid as exc:
        add_note(
            s,
            tenant_id,
            ticket_id,
            f"Jira issue {hook.issue_key} moved to {hook.status_to}, but the ticket "
            f"was left {ticket.status}: {exc.message}",
        )
        return "status not applicable"
    return f"status {target}"


def _add_comment(
    s: Session, tenant_id: uuid.UUID, ticket_id: int, hook: JiraWebhook, own_ids: set[str]
) -> str:
    comment = hook.comment
    assert comment is not None
    if own_ids & set(comment.author_ids):
        return "own comment"
    if seen(s, tenant_id, COMMENT_KEYS, comment.id):
        return "comment already noted"
    note_id = add_note(
        s,
        tenant_id,
        ticket_id,
        f"Jira comment by {comment.author_name} on {hook.issue_key}:\n\n{comment.body}",
        extra={"jira_comment_id": comment.id},
    )
    record_seen(
        s,
        tenant_id,
        COMMENT_KEYS,
        comment.id,
        ticket_id=ticket_id,
        comment_id=note_id,
        outcome="comment",
    )
    return "comment noted"


def receive(
    hub: HubContext,
    tenant_id: uuid.UUID,
    settings: JiraSettings,
    own_ids: set[str],
    hook: JiraWebhook,
    delivery_id: str,
    content_key: str | None = None,
) -> str:
    """Handle one verified delivery; returns what became of it.

    Deduplicated on the delivery id and on ``content_key`` (a hash of the signed body), both
    recorded in the transaction of its effects: a replay under a new delivery id is a duplicate.
    """
    try:
        with hub.session() as s:
            keys = [(CHANNEL, delivery_id)]
            if content_key is not None:
                keys.append((CONTENT_KEYS, content_key))
            if any(seen(s, tenant_id, channel, key) for channel, key in keys):
                return "duplicate"
            for channel, key in keys:
                record_seen(s, tenant_id, channel, key, outcome="webhook")
            if own_ids & set(hook.user_ids):
                return "own change ignored"
            if hook.event not in HANDLED_EVENTS:
                return f"{hook.event} ignored"
            ticket_id = find_ticket(s, tenant_id, hook)
            if ticket_id is None:
                if hook.issue_from_comment and not hook.issue_key:
                    return f"unknown issue (id {hook.issue_id} from comment.self)"
                return "unknown issue"
            done = []
            if hook.comment is not None and hook.event in COMMENT_EVENTS:
                done.append(_add_comment(s, tenant_id, ticket_id, hook, own_ids))
            if hook.status_to:
                done.append(_apply_status(s, tenant_id, ticket_id, hook, settings))
            if hook.event == "jira:issue_deleted":
                add_note(s, tenant_id, ticket_id, f"Jira issue {hook.issue_key} was deleted.")
                done.append("deletion noted")
    except IntegrityError:
        return "duplicate"
    hub.kick()
    return ", ".join(done) or "ignored"
