"""Block Kit messages the bot posts: the requester's confirmation, the triage card, CSAT."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.api import CATEGORIES, PRIORITIES, STATUSES

NEW_TICKET_VIEW = "hub_new_ticket"


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
    channel: str = ""
    sla_breached: bool = False


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": label}, "value": value}


def confirmation(card: TicketCard) -> tuple[str, list[dict[str, Any]]]:
    """The bot's answer in the requester's thread when a ticket is opened."""
    text = (
        f"Ticket #{card.id} opened: {card.subject}. Replies in this thread go to the support team."
    )
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f":ticket: *Ticket #{card.id}* opened: <{card.url}|{_esc(card.subject)}>\n"
                f"Status *{card.status}* · Priority *{card.priority}*\n"
                "Reply in this thread to add to your ticket.",
            },
        },
        {
            "type": "actions",
            "block_id": f"hub_ticket_{card.id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": "hub_view",
                    "text": {"type": "plain_text", "text": "View ticket"},
                    "url": card.url,
                    "value": str(card.id),
                },
            ],
        },
    ]
    return text, blocks


def triage(card: TicketCard) -> tuple[str, list[dict[str, Any]]]:
    """The agents' card in the triage channel: current state and the actions."""
    assignee = card.assignee or "unassigned"
    text = f"#{card.id} {card.subject} - {card.status}, {card.priority}, assignee: {assignee}"
    tid = str(card.id)
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*<{card.url}|#{card.id} {_esc(card.subject)}>*\n"
                f"Status: *{card.status}* · Priority: *{card.priority}* · Category: {card.category}\n"
                f"Requester: {_esc(card.requester)} · Assignee: *{_esc(assignee)}*"
                + (f" · via {card.channel}" if card.channel else "")
                + ("\n:rotating_light: *SLA breached*" if card.sla_breached else ""),
            },
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Messages in this thread are internal notes. Use the *Send to requester* message "
                    f"action or `/reply #{card.id} <text>` to answer the requester.",
                }
            ],
        },
        {
            "type": "actions",
            "block_id": f"hub_triage_{tid}",
            "elements": [
                {
                    "type": "button",
                    "action_id": "hub_assign_me",
                    "value": tid,
                    "text": {"type": "plain_text", "text": "Assign to me"},
                },
                {
                    "type": "static_select",
                    "action_id": "hub_priority",
                    "placeholder": {"type": "plain_text", "text": "Priority"},
                    "options": [_option(p, f"{tid}:{p}") for p in PRIORITIES],
                },
                {
                    "type": "static_select",
                    "action_id": "hub_status",
                    "placeholder": {"type": "plain_text", "text": "Status"},
                    "options": [_option(s, f"{tid}:{s}") for s in STATUSES],
                },
                {
                    "type": "button",
                    "action_id": "hub_resolve",
                    "value": tid,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Resolve"},
                },
            ],
        },
    ]
    return text, blocks


def csat(ticket_id: int) -> tuple[str, list[dict[str, Any]]]:
    """The resolution notice with a 1-5 satisfaction prompt."""
    text = f"Ticket #{ticket_id} was resolved. How satisfied are you with the help you got?"
    return text, [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f":white_check_mark: Ticket *#{ticket_id}* was resolved. How did we do? "
                "(Reply in this thread if it is not solved.)",
            },
        },
        {
            "type": "actions",
            "block_id": f"hub_csat_{ticket_id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": f"hub_csat_{n}",
                    "value": f"{ticket_id}:{n}",
                    "text": {"type": "plain_text", "text": "★" * n},
                }
                for n in range(1, 6)
            ],
        },
    ]


def new_ticket_modal(channel_id: str, text: str = "") -> dict[str, Any]:
    """The /ticket modal: subject, description, category, priority."""

    def select(block: str, label: str, values: tuple[str, ...], initial: str) -> dict[str, Any]:
        return {
            "type": "input",
            "block_id": block,
            "label": {"type": "plain_text", "text": label},
            "element": {
                "type": "static_select",
                "action_id": "value",
                "initial_option": _option(initial, initial),
                "options": [_option(v, v) for v in values],
            },
        }

    subject: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "max_length": 255}
    if text:
        subject["initial_value"] = text[:255]
    return {
        "type": "modal",
        "callback_id": NEW_TICKET_VIEW,
        "private_metadata": json.dumps({"channel": channel_id}),
        "title": {"type": "plain_text", "text": "New support ticket"},
        "submit": {"type": "plain_text", "text": "Create"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "subject",
                "element": subject,
                "label": {"type": "plain_text", "text": "Subject"},
            },
            {
                "type": "input",
                "block_id": "description",
                "label": {"type": "plain_text", "text": "Description"},
                "element": {"type": "plain_text_input", "action_id": "value", "multiline": True},
            },
            select(
                "category",
                "Category",
                CATEGORIES,
                "Other" if "Other" in CATEGORIES else CATEGORIES[0],
            ),
            select(
                "priority",
                "Priority",
                PRIORITIES,
                "Medium" if "Medium" in PRIORITIES else PRIORITIES[0],
            ),
        ],
    }
