"""Every kind of mail the hub sends: its variables (documented, shown on the admin page) and its
built-in subject and text, Jinja2 sources rendered by ``core.mail_templates.render``.

Variables are plain values and dicts (``ticket.id`` reads a key): templates never reach an
object of ours. The common ones are the same for every ticket mail, so that a notification's
wording (``compose(kind, variables)``) fits any kind: ``ticket``, ``actor``, ``recipient``,
``comment``, ``tenant``, ``url``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TICKET = "the ticket: id, subject, status, priority, category, url, requester (name, email)"
ACTOR = "who acted: name, email"
RECIPIENT = "who receives this mail: name, email"
COMMENT = "the comment: body, author (name, email)"
TENANT = "your organisation: name"
URL = "the link for this recipient (a requester's sign-in link, else the ticket's page)"
SIGNATURE = "the organisation's signature, and the agent's own on replies (may be empty)"

TICKET_VARIABLES = {
    "ticket": TICKET,
    "actor": ACTOR,
    "recipient": RECIPIENT,
    "tenant": TENANT,
    "url": URL,
    "signature": SIGNATURE,
    "private_link": "true when url signs the recipient in (a mail to the requester alone)",
    "when": "the time of the event, in the recipient's time zone and language",
}

_FOOTER = (
    "\n\n{% if signature %}{{ signature }}\n\n{% endif %}--\nTicket #{{ ticket.id }}: {{ url }}"
    "{% if private_link %}\nThis link opens the ticket for you without a password: "
    "do not forward this mail.{% endif %}"
)


@dataclass(frozen=True)
class Kind:
    """One kind of mail: a title, its variables (name -> what it holds), built-in templates."""

    title: str
    subject: str
    text: str
    variables: dict[str, str] = field(default_factory=dict)
    automatic: bool = True


KINDS: dict[str, Kind] = {
    "created": Kind(
        "Acknowledgement (ticket created)",
        "[#{{ ticket.id }}] {{ ticket.subject }}",
        "We have received your request and opened ticket #{{ ticket.id }}"
        "{% if when %} on {{ when }}{% endif %}: {{ ticket.subject }}"
        "\n\nReply to this message to add information to the ticket." + _FOOTER,
        TICKET_VARIABLES,
    ),
    "agent_reply": Kind(
        "Agent reply",
        "Re: [#{{ ticket.id }}] {{ ticket.subject }}",
        "{{ comment.author.name or 'Support' }} wrote{% if when %} on {{ when }}{% endif %}:"
        "\n\n{{ comment.body }}" + _FOOTER,
        {**TICKET_VARIABLES, "comment": COMMENT},
        automatic=False,
    ),
    "status": Kind(
        "Status change",
        "Re: [#{{ ticket.id }}] {{ ticket.subject }}",
        "The status of your ticket #{{ ticket.id }} changed from {{ old_status }} to "
        "{{ new_status }}." + _FOOTER,
        {**TICKET_VARIABLES, "old_status": "the status before", "new_status": "the status now"},
    ),
    "resolved": Kind(
        "Resolution (with rating)",
        "Re: [#{{ ticket.id }}] {{ ticket.subject }}",
        "Your ticket #{{ ticket.id }} is resolved.\n\n"
        "If the problem persists, reply to this message to reopen the ticket."
        "{% if rating_links %}\n\nHow did we do? One click rates our help:\n"
        "{% for link in rating_links %}\n{{ link.label }}: {{ link.url }}{% endfor %}{% endif %}"
        + _FOOTER,
        {
            **TICKET_VARIABLES,
            "old_status": "the status before",
            "new_status": "the status now",
            "rating_links": "the one-click ratings: a list of (label, url), empty when the "
            "ticket is rated or the recipient is not its requester",
        },
    ),
    "closed": Kind(
        "Closure",
        "Re: [#{{ ticket.id }}] {{ ticket.subject }}",
        "Your ticket #{{ ticket.id }} is closed. Write to us again to open a new one." + _FOOTER,
        {**TICKET_VARIABLES, "old_status": "the status before", "new_status": "the status now"},
    ),
    "faq_reply": Kind(
        "Automatic FAQ reply",
        "Re: [#{{ ticket.id }}] {{ ticket.subject }}",
        "While an agent looks at your request, these articles of our help centre may answer it:\n"
        "{% for article in articles %}\n- {{ article.title }}: {{ article.url }}{% endfor %}\n\n"
        "If one solves it, reply to this message to say so." + _FOOTER,
        {**TICKET_VARIABLES, "articles": "the suggested articles: a list of (title, url)"},
    ),
    "assignment": Kind(
        "Assignment (to the assignee)",
        "[#{{ ticket.id }}] Assigned to you: {{ ticket.subject }}",
        "{{ actor.name or 'Someone' }} assigned ticket #{{ ticket.id }} to you: "
        "{{ ticket.subject }} (priority {{ ticket.priority }})." + _FOOTER,
        TICKET_VARIABLES,
    ),
    "mention": Kind(
        "Mention",
        "[#{{ ticket.id }}] {{ actor.name or 'Someone' }} mentioned you",
        "{{ actor.name or 'Someone' }} mentioned you on ticket #{{ ticket.id }}:\n\n"
        "{{ comment.body }}" + _FOOTER,
        {**TICKET_VARIABLES, "comment": COMMENT},
    ),
    "sla_warning": Kind(
        "SLA warning",
        "[#{{ ticket.id }}] SLA target due {{ due }}",
        "Ticket #{{ ticket.id }} ({{ ticket.priority }}) reaches its {{ sla_target }} target at "
        "{{ due }}." + _FOOTER,
        {**TICKET_VARIABLES, "sla_target": "which target (response, resolution)", "due": "when"},
    ),
    "sla_breach": Kind(
        "SLA breach",
        "[#{{ ticket.id }}] SLA breached: {{ ticket.subject }}",
        "Ticket #{{ ticket.id }} ({{ ticket.priority }}) missed its {{ sla_target }} target "
        "(due {{ due }})." + _FOOTER,
        {**TICKET_VARIABLES, "sla_target": "which target (response, resolution)", "due": "when"},
    ),
    "escalation": Kind(
        "Escalation",
        "[#{{ ticket.id }}] Escalated: {{ ticket.subject }}",
        "Ticket #{{ ticket.id }} was escalated{% if reason %}: {{ reason }}{% endif %}." + _FOOTER,
        {**TICKET_VARIABLES, "reason": "why it was escalated"},
    ),
    "merge": Kind(
        "Merge",
        "[#{{ ticket.id }}] Merged into #{{ target.id }}",
        "Ticket #{{ ticket.id }} was merged into ticket #{{ target.id }}: {{ target.subject }}."
        "\n\nIt continues there: {{ target.url }}" + _FOOTER,
        {**TICKET_VARIABLES, "target": "the ticket it was merged into: id, subject, url"},
    ),
    "requester_reply": Kind(
        "Requester reply (to staff)",
        "Re: [#{{ ticket.id }}] {{ ticket.subject }}",
        "{{ comment.author.name or comment.author.email }} replied on ticket "
        "#{{ ticket.id }}:\n\n{{ comment.body }}" + _FOOTER,
        {**TICKET_VARIABLES, "comment": COMMENT},
    ),
    "invitation": Kind(
        "Invitation",
        "You are invited to {{ tenant.name }}",
        "{{ inviter }} invites you to join {{ tenant.name }} on the help desk as {{ role }}.\n\n"
        "Accept the invitation (the link works once, until {{ expires }}):\n{{ url }}\n\n"
        "If you did not expect this invitation, ignore this mail.",
        {
            "tenant": TENANT,
            "recipient": RECIPIENT,
            "inviter": "who invites",
            "role": "the role offered (an agent, an admin, ...)",
            "expires": "until when the link works",
            "url": "the invitation link (works once)",
        },
    ),
    "password_reset": Kind(
        "Password reset",
        "Reset your password",
        "Someone (we hope you) asked to reset the password of your help desk account.\n\n"
        "Choose a new password here (the link works once, for {{ minutes }} minutes):\n"
        "{{ url }}\n\n"
        "If you did not ask for this, ignore this mail: your password stays as it is.",
        {
            "tenant": TENANT,
            "recipient": RECIPIENT,
            "minutes": "how long the link works",
            "url": "the reset link (works once)",
        },
    ),
    "signin_link": Kind(
        "Requester sign-in link",
        "Your sign-in link for {{ tenant.name }}",
        "Here is your link to the help desk of {{ tenant.name }}: it signs you in without a "
        "password and works for {{ days }} days. Do not forward it.\n\n{{ url }}\n\n"
        "If you did not ask for it, ignore this mail.",
        {
            "tenant": TENANT,
            "recipient": RECIPIENT,
            "days": "how many days the link works",
            "url": "the sign-in link",
        },
    ),
    "weekly_report": Kind(
        "Weekly report",
        "Weekly support report, week of {{ week }}",
        "{{ report }}",
        {
            "tenant": TENANT,
            "recipient": RECIPIENT,
            "week": "the first day of the week reported",
            "report": "the report's figures, one per line",
            "url": "the reports page for that week",
        },
    ),
}


_FOOTER_DE = (
    "\n\n{% if signature %}{{ signature }}\n\n{% endif %}--\nTicket #{{ ticket.id }}: {{ url }}"
    "{% if private_link %}\nDieser Link öffnet das Ticket für Sie ohne Passwort: "
    "Leiten Sie diese E-Mail nicht weiter.{% endif %}"
)

# The requesters' mails in German: (subject, text) by kind, used for a recipient whose language
# is German while the tenant has no template of its own for the kind.
TRANSLATED: dict[str, dict[str, tuple[str, str]]] = {
    "de": {
        "created": (
            "[#{{ ticket.id }}] {{ ticket.subject }}",
            "Wir haben Ihre Anfrage{% if when %} am {{ when }}{% endif %} erhalten und das "
            "Ticket #{{ ticket.id }} eröffnet: {{ ticket.subject }}\n\n"
            "Antworten Sie auf diese Nachricht, um dem Ticket Informationen hinzuzufügen."
            + _FOOTER_DE,
        ),
        "agent_reply": (
            "Re: [#{{ ticket.id }}] {{ ticket.subject }}",
            "{{ comment.author.name or 'Support' }} schrieb{% if when %} am {{ when }}"
            "{% endif %}:\n\n{{ comment.body }}" + _FOOTER_DE,
        ),
        "status": (
            "Re: [#{{ ticket.id }}] {{ ticket.subject }}",
            "Der Status Ihres Tickets #{{ ticket.id }} hat sich{% if when %} am {{ when }}"
            "{% endif %} von {{ old_status }} zu {{ new_status }} geändert." + _FOOTER_DE,
        ),
        "resolved": (
            "Re: [#{{ ticket.id }}] {{ ticket.subject }}",
            "Ihr Ticket #{{ ticket.id }} ist gelöst{% if when %} ({{ when }}){% endif %}.\n\n"
            "Falls das Problem weiter besteht, antworten Sie auf diese Nachricht, um das Ticket "
            "wieder zu öffnen."
            "{% if rating_links %}\n\nWie war unsere Hilfe? Ein Klick bewertet sie:\n"
            "{% for link in rating_links %}\n{{ link.label }}: {{ link.url }}{% endfor %}{% endif %}"
            + _FOOTER_DE,
        ),
        "closed": (
            "Re: [#{{ ticket.id }}] {{ ticket.subject }}",
            "Ihr Ticket #{{ ticket.id }} ist geschlossen{% if when %} ({{ when }}){% endif %}. "
            "Schreiben Sie uns erneut, um ein neues zu eröffnen." + _FOOTER_DE,
        ),
    }
}
# The spec's statuses as a German mail names them.
STATUS_LABELS: dict[str, dict[str, str]] = {
    "de": {
        "New": "Neu",
        "Open": "Offen",
        "In Progress": "In Bearbeitung",
        "Pending": "Wartend",
        "Resolved": "Gelöst",
        "Closed": "Geschlossen",
        "Reopened": "Wieder geöffnet",
    }
}


def sample(kind: str) -> dict[str, Any]:
    """Values for every variable of a kind: what a template is checked against on save."""
    person = {"name": "Ada Lovelace", "email": "ada@example.com"}
    ticket = {
        "id": 1234,
        "subject": "Printer on floor 3 is offline",
        "status": "Open",
        "priority": "High",
        "category": "Hardware",
        "url": "https://help.example.com/tickets/1234",
        "requester": person,
    }
    values: dict[str, Any] = {
        "ticket": ticket,
        "actor": {"name": "Grace Hopper", "email": "grace@example.com"},
        "recipient": person,
        "comment": {"body": "Could you try turning it off and on again?", "author": person},
        "tenant": {"name": "Example Corp"},
        "url": ticket["url"],
        "signature": "Example Corp support",
        "private_link": False,
        "old_status": "In Progress",
        "new_status": "Resolved",
        "rating_links": [
            {"label": f"{n} of 5", "url": f"https://help.example.com/rate/{n}"} for n in range(1, 6)
        ],
        "articles": [{"title": "Printer offline", "url": "https://help.example.com/kb/articles/7"}],
        "target": {"id": 1200, "subject": "Printers down", "url": ticket["url"]},
        "reason": "critical SLA breach",
        "sla_target": "resolution",
        "due": "2026-12-02 17:00 UTC",
        "when": "Dec 2, 2026, 5:00 PM UTC",
        "inviter": "Grace Hopper",
        "role": "an agent",
        "expires": "2026-12-05 17:00 UTC",
        "minutes": 60,
        "days": 30,
        "week": "2026-11-23",
        "report": "Created: 12\nResolved: 10",
    }
    return {name: values[name] for name in KINDS[kind].variables}
