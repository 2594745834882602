"""Adaptive Cards and message activities the plugin sends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CARD = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
MAX_TEXT = 4000  # keep a message well under Teams' ~28 KB activity limit


@dataclass(frozen=True)
class TicketCard:
    """What the cards show of a ticket."""

    id: int
    subject: str
    status: str
    priority: str
    category: str
    requester: str
    assignee: str | None
    url: str
    channel: str


def bounded(text: str, url: str) -> str:
    """A text cut to a message's size, the rest left to the web page."""
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + f"... (read on: {url})"


def message(text: str) -> dict[str, Any]:
    """A plain message activity."""
    return {"type": "message", "textFormat": "plain", "text": text}


def with_card(text: str, card: dict[str, Any]) -> dict[str, Any]:
    """A message activity carrying one Adaptive Card (``text`` is the notification summary)."""
    return {
        "type": "message",
        "summary": text,
        "attachments": [{"contentType": CARD, "content": card}],
    }


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    card: dict[str, Any] = {
        "$schema": SCHEMA,
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card


def _facts(t: TicketCard) -> dict[str, Any]:
    facts = [
        {"title": "Status", "value": t.status},
        {"title": "Priority", "value": t.priority},
        {"title": "Category", "value": t.category},
        {"title": "Requester", "value": t.requester},
        {"title": "Assignee", "value": t.assignee or "nobody"},
        {"title": "Channel", "value": t.channel},
    ]
    return {"type": "FactSet", "facts": facts}


def triage(t: TicketCard) -> dict[str, Any]:
    """The agents' card: facts and the Assign-to-me / Resolve actions (Universal Actions)."""
    actions: list[dict[str, Any]] = [{"type": "Action.OpenUrl", "title": "Open", "url": t.url}]
    if t.status not in ("Resolved", "Closed"):
        if t.assignee is None:
            actions.insert(
                0,
                {
                    "type": "Action.Execute",
                    "title": "Assign to me",
                    "verb": "assign_me",
                    "data": {"ticket": t.id},
                },
            )
        actions.insert(
            1 if t.assignee is None else 0,
            {
                "type": "Action.Execute",
                "title": "Resolve",
                "verb": "resolve",
                "data": {"ticket": t.id},
            },
        )
    return _card(
        [
            {
                "type": "TextBlock",
                "size": "Medium",
                "weight": "Bolder",
                "wrap": True,
                "text": f"#{t.id} {t.subject}",
            },
            _facts(t),
        ],
        actions,
    )


RATINGS = range(1, 6)


def status(t: TicketCard, new_status: str) -> dict[str, Any]:
    """The requester's status card; a resolution asks for a rating, 1 to 5 (Universal Actions,
    answered by ``rated``)."""
    text = (
        f"Ticket #{t.id} is resolved. Reply here within a few days if it is not."
        if new_status == "Resolved"
        else f"Ticket #{t.id} is now {new_status}."
    )
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "weight": "Bolder", "wrap": True, "text": text},
        {"type": "TextBlock", "wrap": True, "isSubtle": True, "text": t.subject},
    ]
    actions: list[dict[str, Any]] = []
    if new_status == "Resolved":
        body.append({"type": "TextBlock", "wrap": True, "text": "How did we do?"})
        actions = [
            {
                "type": "Action.Execute",
                "title": f"{n} {'star' if n == 1 else 'stars'}",
                "verb": "rate",
                "data": {"ticket": t.id, "rating": n},
            }
            for n in RATINGS
        ]
    return _card(body, [*actions, {"type": "Action.OpenUrl", "title": "View ticket", "url": t.url}])


def rated(t: TicketCard, rating: int) -> dict[str, Any]:
    """What replaces the rating card once the requester chose."""
    return _card(
        [
            {
                "type": "TextBlock",
                "weight": "Bolder",
                "wrap": True,
                "text": f"Thanks for rating ticket #{t.id}: {rating} of 5.",
            },
            {"type": "TextBlock", "wrap": True, "isSubtle": True, "text": t.subject},
        ],
        [{"type": "Action.OpenUrl", "title": "View ticket", "url": t.url}],
    )


def invoke_card(card: dict[str, Any]) -> dict[str, Any]:
    """The invoke response body that replaces the card the action came from."""
    return {"statusCode": 200, "type": CARD, "value": card}


def invoke_message(text: str) -> dict[str, Any]:
    """The invoke response body that shows a message instead (refusals, errors)."""
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}
