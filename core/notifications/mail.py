"""The wording of every notice of the matrix: one function, ``compose``.

``compose(kind, variables) -> (subject, text)`` with the variables ``ticket`` (a
``TicketSnapshot``), ``actor`` and ``recipient`` (``Person`` or None), ``comment`` (a
``CommentSnapshot`` or None), ``tenant`` (its name), ``url`` (the ticket's page for the
recipient) and ``extra`` (the event's payload). The in-app text is the subject; mail and chat DMs
carry the text. A tenant's own templates (the email templates work) plug in here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.notifications import matrix

MAX_QUOTE = 2000


def _name(person: Any, fallback: str) -> str:
    if person is None:
        return fallback
    return str(getattr(person, "name", "") or getattr(person, "email", "") or fallback)


def _assigned(ref: str, ticket: Any, recipient: Any) -> str:
    """ "assigned to you" for the new assignee; to other staff (the previous assignee) whom it
    went to; to an end user, only that an agent has it."""
    if recipient is not None and ticket.assignee is not None:
        if recipient.id == ticket.assignee.id:
            return f"{ref} was assigned to you"
        if getattr(recipient, "role", None) in ("agent", "admin"):
            return f"{ref} was reassigned to {_name(ticket.assignee, 'another agent')}"
    return f"{ref} was assigned to an agent"


def _subjects(kind: str, v: Mapping[str, Any]) -> str:
    t = v["ticket"]
    who = _name(v.get("actor"), "The system")
    extra = v.get("extra") or {}
    ref = f"#{t.id} {t.subject}"
    return {
        matrix.CREATED: f"New ticket {ref}",
        matrix.ASSIGNED: _assigned(ref, t, v.get("recipient")),
        matrix.STATUS_CHANGED: f"{ref} is now {t.status}",
        matrix.AGENT_REPLY: f"{who} replied on {ref}",
        matrix.REQUESTER_REPLY: f"{who} replied on {ref}",
        matrix.INTERNAL_NOTE: f"{who} added an internal note on {ref}",
        matrix.RESOLVED: f"{ref} was resolved",
        matrix.CLOSED: f"{ref} was closed",
        matrix.REOPENED: f"{ref} was reopened",
        matrix.MENTION: f"{who} mentioned you on {ref}",
        matrix.SLA_WARNING: f"{ref} is close to its {extra.get('sla_target', 'SLA')} target",
        matrix.SLA_BREACH: f"{ref} breached its {extra.get('sla_target', 'SLA')} target",
        matrix.ESCALATION: f"{ref} was escalated"
        + (f": {extra['note']}" if extra.get("note") else ""),
        matrix.MERGE: f"{ref} was merged into #{extra.get('into', '?')}",
    }[kind]


def compose(kind: str, variables: Mapping[str, Any]) -> tuple[str, str]:
    """The subject and plain-text body of one notice."""
    subject = " ".join(_subjects(kind, variables).split())
    lines = [subject + "."]
    comment = variables.get("comment")
    if comment is not None and kind in (
        matrix.AGENT_REPLY,
        matrix.REQUESTER_REPLY,
        matrix.INTERNAL_NOTE,
        matrix.MENTION,
    ):
        body = str(comment.body)
        if len(body) > MAX_QUOTE:
            body = body[:MAX_QUOTE] + " ..."
        lines += ["", body]
    extra = variables.get("extra") or {}
    if kind in (matrix.SLA_WARNING, matrix.SLA_BREACH) and extra.get("due_at"):
        lines += ["", f"Due: {extra['due_at']}"]
    lines += ["", "--", f"{variables.get('tenant') or 'Support'}: {variables['url']}"]
    return subject, "\n".join(lines) + "\n"
