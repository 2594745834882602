"""Agent notes marked for Jira (``#jira ...``) are posted as comments on the linked issue."""

from __future__ import annotations

from core.api import HubContext, TicketEvent, record_seen, seen
from plugins.jira import client
from plugins.jira.escalation import ISSUE_KIND, remember_identity
from plugins.jira.notes import CHANNEL, add_note
from plugins.jira.settings import JiraSettings

# Dedupe keys (seen-once keys, not refs: they would clutter the ticket's reference list):
# every Jira comment id known on a ticket, whichever side wrote it, and every note we posted.
COMMENT_KEYS = "jira-comment"
NOTE_KEYS = "jira-note"


def marked_text(event: TicketEvent, settings: JiraSettings) -> str | None:
    """The text to post, when the event is an agent's internal note starting with the marker."""
    comment = event.comment
    # Notes that came from Jira (channel "jira") are never sent back: no echo loop.
    if comment is None or not comment.is_internal or comment.channel == CHANNEL:
        return None
    body = comment.body.lstrip()
    marker = settings.comment_marker
    if not body.lower().startswith(marker.lower()):
        return None
    text = body[len(marker) :].strip()
    return text or None


def post_comment(hub: HubContext, event: TicketEvent, settings: JiraSettings) -> None:
    """Post a marked note to the ticket's Jira issue (at most once per note)."""
    text = marked_text(event, settings)
    if text is None or event.ticket is None or event.comment is None:
        return
    ticket, note = event.ticket, event.comment
    keys = ticket.refs.get(ISSUE_KIND) or []
    if not keys:
        with hub.session() as s:
            add_note(
                s,
                ticket.tenant_id,
                ticket.id,
                "This note was not sent to Jira: the ticket has no Jira issue yet "
                "(escalate it to Jira first).",
            )
        hub.kick()
        return
    with hub.session() as s:
        if seen(s, ticket.tenant_id, NOTE_KEYS, str(note.id)):
            return
    body = f"{text}\n\n— {note.author.name or note.author.email}, support ticket #{ticket.id}"
    try:
        jira = client.connect(settings, hub.egress)
        # Known before posting, so the webhook of this very comment is recognised as ours.
        remember_identity(hub, ticket.tenant_id, jira)
        posted = client.call(lambda: jira.add_comment(keys[0], body))
    except client.Rejected as exc:
        with hub.session() as s:
            add_note(
                s, ticket.tenant_id, ticket.id, f"Jira did not accept the comment: {exc.message}"
            )
        hub.kick()
        return
    with hub.session() as s:
        for channel, key in ((NOTE_KEYS, str(note.id)), (COMMENT_KEYS, str(posted.id))):
            # The Jira comment's webhook comes back to us and is recognised as our own.
            record_seen(
                s,
                ticket.tenant_id,
                channel,
                key,
                ticket_id=ticket.id,
                comment_id=note.id,
                outcome="comment",
            )
