"""The ticket status machine (spec section 3) and who may make which transition."""

from __future__ import annotations

STATUSES = ("New", "Open", "In Progress", "Pending", "Resolved", "Closed", "Reopened")
PRIORITIES = ("Low", "Medium", "High", "Critical")
CATEGORIES = (
    "Onboarding",
    "Access",
    "Technical Issue",
    "Billing",
    "Feature Request",
    "Security",
    "Other",
)
OPEN_STATUSES = ("New", "Open", "In Progress", "Pending", "Reopened")
DONE_STATUSES = ("Resolved", "Closed")

# Transitions an agent or admin may make. Closing is allowed from anywhere (duplicates, spam);
# a Closed ticket only comes back through Reopened.
TRANSITIONS: dict[str, frozenset[str]] = {
    "New": frozenset({"Open", "In Progress", "Pending", "Resolved", "Closed"}),
    "Open": frozenset({"In Progress", "Pending", "Resolved", "Closed"}),
    "In Progress": frozenset({"Open", "Pending", "Resolved", "Closed"}),
    "Pending": frozenset({"Open", "In Progress", "Resolved", "Closed"}),
    "Resolved": frozenset({"Closed", "Reopened", "In Progress"}),
    "Closed": frozenset({"Reopened"}),
    "Reopened": frozenset({"Open", "In Progress", "Pending", "Resolved", "Closed"}),
}

# What the ticket's owner (an end user) may do: reopen a finished ticket.
OWNER_TRANSITIONS: dict[str, frozenset[str]] = {
    "Resolved": frozenset({"Reopened"}),
    "Closed": frozenset({"Reopened"}),
}


def can_transition(current: str, target: str, *, staff: bool) -> bool:
    """Whether ``current -> target`` is allowed for staff (agent/admin) or for the owner."""
    table = TRANSITIONS if staff else OWNER_TRANSITIONS
    return target in table.get(current, frozenset())


def is_open(status: str) -> bool:
    """Open means the SLA clock can run and auto-assignment counts it as load."""
    return status in OPEN_STATUSES
