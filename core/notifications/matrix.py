"""Who hears about which ticket event, through which channel: the one table (issue #16, spec 5).

``MATRIX[kind][recipient]`` is the set of channels a recipient of that kind gets for that kind of
event. Everything else (the resolver, the preferences pages, the README table, the test that walks
the matrix) reads this table; nothing else decides who is told. Two rules hold on top of it and
are checked by ``check()``: the person who acted is never told, and staff-only kinds (internal
notes, SLA, escalation) never reach an end user.
"""

from __future__ import annotations

from types import MappingProxyType

# Kinds of notification (one ticket event may make several: a reply that mentions someone).
CREATED = "created"
ASSIGNED = "assigned"
STATUS_CHANGED = "status_changed"
AGENT_REPLY = "agent_reply"
REQUESTER_REPLY = "requester_reply"
INTERNAL_NOTE = "internal_note"
RESOLVED = "resolved"
CLOSED = "closed"
REOPENED = "reopened"
MENTION = "mention"
SLA_WARNING = "sla_warning"
SLA_BREACH = "sla_breach"
ESCALATION = "escalation"
MERGE = "merge"
KINDS = (
    CREATED,
    ASSIGNED,
    STATUS_CHANGED,
    AGENT_REPLY,
    REQUESTER_REPLY,
    INTERNAL_NOTE,
    RESOLVED,
    CLOSED,
    REOPENED,
    MENTION,
    SLA_WARNING,
    SLA_BREACH,
    ESCALATION,
    MERGE,
)
LABELS = {
    CREATED: "Ticket created",
    ASSIGNED: "Assigned or reassigned",
    STATUS_CHANGED: "Status changed",
    AGENT_REPLY: "Agent reply",
    REQUESTER_REPLY: "Requester reply",
    INTERNAL_NOTE: "Internal note",
    RESOLVED: "Resolved",
    CLOSED: "Closed",
    REOPENED: "Reopened",
    MENTION: "@mention",
    SLA_WARNING: "SLA warning",
    SLA_BREACH: "SLA breach",
    ESCALATION: "Escalation",
    MERGE: "Merged",
}

# Recipient kinds.
REQUESTER = "requester"
ASSIGNEE = "assignee"
# Who had the ticket before a reassignment (told it left them, so it is not worked twice).
PREVIOUS_ASSIGNEE = "previous_assignee"
# The agents of the ticket's group (core.groups); with no group, all agents of the tenant while
# the ticket is unassigned, or nobody, per the tenant setting ``unassigned``.
AGENTS = "agents"
ADMINS = "admins"  # the tenant's admins (spec 16: "sends escalation to admin")
WATCHERS = "watchers"  # watchers and Cc participants of the ticket
MENTIONED = "mentioned"  # the people @mentioned, staff or end users on the ticket
RECIPIENTS = (REQUESTER, ASSIGNEE, PREVIOUS_ASSIGNEE, AGENTS, ADMINS, WATCHERS, MENTIONED)
# Recipient kinds that can be end users: staff-only kinds never name them.
END_USER_RECIPIENTS = frozenset({REQUESTER, WATCHERS, MENTIONED})

# Channels.
EMAIL = "email"
IN_APP = "in_app"
CHAT = "chat"  # a Slack or Teams direct message to a person linked there
CHANNELS = (EMAIL, IN_APP, CHAT)
CHANNEL_LABELS = {EMAIL: "Email", IN_APP: "In the app", CHAT: "Chat DM (Slack, Teams)"}

# Kinds no end user ever hears about (an internal note, the SLA, an escalation).
STAFF_ONLY = frozenset({INTERNAL_NOTE, SLA_WARNING, SLA_BREACH, ESCALATION})

_ALL = frozenset(CHANNELS)
_MAIL_APP = frozenset({EMAIL, IN_APP})
_APP = frozenset({IN_APP})
_STAFF_ALERT = _ALL

MATRIX: MappingProxyType[str, MappingProxyType[str, frozenset[str]]] = MappingProxyType(
    {
        kind: MappingProxyType(row)
        for kind, row in {
            CREATED: {REQUESTER: _MAIL_APP, AGENTS: _APP, WATCHERS: _MAIL_APP},
            ASSIGNED: {ASSIGNEE: _STAFF_ALERT, PREVIOUS_ASSIGNEE: _APP, REQUESTER: _APP},
            STATUS_CHANGED: {REQUESTER: _MAIL_APP, ASSIGNEE: _APP, WATCHERS: _MAIL_APP},
            AGENT_REPLY: {REQUESTER: _MAIL_APP, ASSIGNEE: _APP, WATCHERS: _MAIL_APP},
            REQUESTER_REPLY: {ASSIGNEE: _STAFF_ALERT, AGENTS: _APP, WATCHERS: _APP},
            INTERNAL_NOTE: {ASSIGNEE: _STAFF_ALERT, AGENTS: _APP},
            RESOLVED: {REQUESTER: _MAIL_APP, ASSIGNEE: _APP, WATCHERS: _MAIL_APP},
            CLOSED: {REQUESTER: _MAIL_APP, ASSIGNEE: _APP, WATCHERS: _MAIL_APP},
            REOPENED: {REQUESTER: _MAIL_APP, ASSIGNEE: _STAFF_ALERT, WATCHERS: _APP},
            MENTION: {MENTIONED: _ALL},
            SLA_WARNING: {ASSIGNEE: _STAFF_ALERT, AGENTS: _APP},
            SLA_BREACH: {ASSIGNEE: _STAFF_ALERT, AGENTS: _APP, ADMINS: _MAIL_APP},
            ESCALATION: {ASSIGNEE: _STAFF_ALERT, AGENTS: _MAIL_APP, ADMINS: _MAIL_APP},
            MERGE: {REQUESTER: _MAIL_APP, ASSIGNEE: _APP, WATCHERS: _APP},
        }.items()
    }
)

# Mail the email plugin sends itself, threaded on the ticket (reply token, Message-ID chain,
# loop limits): to the requester and the Cc participants for these kinds. Every other mail of
# the matrix goes out as a notice through ``hub_send_mail``.
THREADED_MAIL = frozenset({CREATED, AGENT_REPLY, STATUS_CHANGED, RESOLVED, CLOSED, REOPENED})
THREAD_RECIPIENTS = frozenset({REQUESTER, WATCHERS})

# What a person may not turn off: the requester's mail carrying an agent's reply (it is the
# conversation itself) and the resolution (the requester's chance to object). Tenant defaults
# never silence any requester mail about their own ticket; only the requester may.
MANDATORY = frozenset({(AGENT_REPLY, REQUESTER, EMAIL), (RESOLVED, REQUESTER, EMAIL)})


def channels(kind: str, recipient: str) -> frozenset[str]:
    """The channels a recipient kind gets for a kind of notification (empty: none)."""
    return MATRIX.get(kind, MappingProxyType({})).get(recipient, frozenset())


def threaded(kind: str, recipient: str, channel: str) -> bool:
    """Whether the email plugin sends this mail as part of the ticket's thread."""
    return channel == EMAIL and kind in THREADED_MAIL and recipient in THREAD_RECIPIENTS


def check() -> list[str]:
    """The table's own rules, as a list of what breaks them (empty when it is sound)."""
    problems = []
    for kind in KINDS:
        if kind not in MATRIX:
            problems.append(f"{kind}: no row")
    for kind, row in MATRIX.items():
        for recipient, chans in row.items():
            if recipient not in RECIPIENTS:
                problems.append(f"{kind}: unknown recipient {recipient}")
            if not chans <= _ALL:
                problems.append(f"{kind}/{recipient}: unknown channel")
            if kind in STAFF_ONLY and recipient in END_USER_RECIPIENTS - {MENTIONED}:
                problems.append(f"{kind}: staff-only, yet to {recipient}")
    return problems


def markdown() -> str:
    """The matrix as the README's table (a test checks that the README holds this text)."""
    head = "| event | " + " | ".join(RECIPIENTS) + " |"
    lines = [head, "|" + "---|" * (len(RECIPIENTS) + 1)]
    short = {EMAIL: "email", IN_APP: "in-app", CHAT: "chat"}
    for kind in KINDS:
        cells = []
        for recipient in RECIPIENTS:
            chans = channels(kind, recipient)
            cells.append(", ".join(short[c] for c in CHANNELS if c in chans) or "-")
        label = LABELS[kind] + (" (staff only)" if kind in STAFF_ONLY else "")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
