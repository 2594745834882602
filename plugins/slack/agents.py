"""Agents in Slack: internal notes in triage threads, explicit public replies, ticket buttons.

A plain message in a ticket's triage thread is an internal note and nothing else. Reaching the
requester takes an explicit act: the "Send to requester" message action or ``/reply #<id> <text>``
(slash commands carry no thread, hence the ticket number). Those comments are stored with a
``:relay:`` dedupe key, which is how the notifier knows to post them to the requester's thread.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_sdk.errors import SlackApiError

from core.api import Changes, HubError, InboundMessage
from plugins.slack import refs
from plugins.slack.blocks import triage
from plugins.slack.context import Ctx
from plugins.slack.payloads import mentioned_users, plain_text
from plugins.slack.people import lookup, member_actor, staff_actor
from plugins.slack.refs import RELAY, TRIAGE, ThreadRef
from plugins.slack.tickets import card, change, exists

log = logging.getLogger(__name__)
REPLY = re.compile(r"^\s*#?(\d{1,18})\s+(.+)$", re.DOTALL)


def _names(ctx: Ctx, text: str) -> dict[str, str]:
    """Slack user ids mentioned in a text -> their email, so core sees ``@email`` mentions."""
    names: dict[str, str] = {}
    for uid in mentioned_users(text):
        if uid == ctx.bot_user_id:
            continue
        try:
            names[uid] = lookup(ctx.hub, ctx.tenant_id, ctx.client, ctx.team, uid).email
        except SlackApiError:
            continue
    return names


def _text(ctx: Ctx, text: str) -> str:
    return plain_text(text, _names(ctx, text), ctx.bot_user_id)


def _tell(ctx: Ctx, channel: str, user: str, text: str) -> None:
    """An ephemeral answer to one user; failures (no access to the channel) are only logged."""
    try:
        ctx.client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as exc:
        log.info("slack ephemeral failed: %s", exc.response.get("error"))


def note(ctx: Ctx, body: dict[str, Any], root: ThreadRef) -> None:
    """A message in a triage thread: an internal note when an agent wrote it, else ignored."""
    event = body.get("event") or {}
    person = lookup(ctx.hub, ctx.tenant_id, ctx.client, ctx.team, event["user"], ctx.config.state)
    if person.is_bot or staff_actor(ctx.hub, ctx.tenant_id, person.email) is None:
        return
    ctx.hub.ingest(
        ctx.tenant_id,
        InboundMessage(
            channel="slack",
            dedupe_key=f"{ctx.team}:{body.get('event_id') or event.get('ts')}",
            sender_email=person.email,
            sender_name=person.name,
            body=_text(ctx, event.get("text", "")),
            references=[root.value],
            ref_kind=TRIAGE,
            internal=True,
            meta={"team": ctx.team, "channel": root.channel, "ts": event.get("ts")},
        ),
    )


def on_send_to_requester(ctx: Ctx, body: dict[str, Any]) -> None:
    """The "Send to requester" message action on a message in a triage thread."""
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id", "")
    invoker = (body.get("user") or {}).get("id", "")
    person = lookup(ctx.hub, ctx.tenant_id, ctx.client, ctx.team, invoker, ctx.config.state)
    if staff_actor(ctx.hub, ctx.tenant_id, person.email) is None:
        _tell(ctx, channel, invoker, "Only the support team's agents can reply to requesters.")
        return
    ts = message.get("ts") or body.get("message_ts", "")
    root = ThreadRef(ctx.team, channel, message.get("thread_ts") or ts)
    ticket_id = refs.ticket_for(ctx.hub, ctx.tenant_id, TRIAGE, root)
    if ticket_id is None:
        _tell(ctx, channel, invoker, "This message is not in a ticket's triage thread.")
        return
    result = ctx.hub.ingest(
        ctx.tenant_id,
        InboundMessage(
            channel="slack",
            dedupe_key=f"{ctx.team}{RELAY}msg:{channel}:{ts}",
            sender_email=person.email,
            sender_name=person.name,
            body=_text(ctx, message.get("text", "")),
            ticket_hint=ticket_id,
            meta={"team": ctx.team, "channel": channel, "ts": ts},
        ),
    )
    done = "was already sent" if result.outcome == "duplicate" else "was sent"
    _tell(ctx, channel, invoker, f"Your reply {done} to the requester of #{ticket_id}.")


def ack_reply(ack: Any, body: dict[str, Any]) -> None:
    """``/reply #<id> <text>``: answer at once with what will happen (the work is lazy)."""
    match = REPLY.match(body.get("text") or "")
    if match is None:
        ack(text="Usage: `/reply #<ticket number> <text to send to the requester>`")
    else:
        ack(text=f"Sending your reply to the requester of #{match.group(1)}...")


def on_reply(ctx: Ctx, body: dict[str, Any]) -> None:
    """The work of ``/reply``: a public comment by the agent, relayed to the requester."""
    match = REPLY.match(body.get("text") or "")
    if match is None:
        return
    channel, user = body.get("channel_id", ""), body.get("user_id", "")
    ticket_id, text = int(match.group(1)), match.group(2)
    person = lookup(ctx.hub, ctx.tenant_id, ctx.client, ctx.team, user, ctx.config.state)
    if staff_actor(ctx.hub, ctx.tenant_id, person.email) is None:
        _tell(ctx, channel, user, "Only the support team's agents can reply to requesters.")
        return
    if not exists(ctx.hub, ctx.tenant_id, ticket_id):
        _tell(ctx, channel, user, f"There is no ticket #{ticket_id}.")
        return
    ctx.hub.ingest(
        ctx.tenant_id,
        InboundMessage(
            channel="slack",
            dedupe_key=f"{ctx.team}{RELAY}cmd:{body.get('trigger_id')}",
            sender_email=person.email,
            sender_name=person.name,
            body=_text(ctx, text),
            ticket_hint=ticket_id,
            meta={"team": ctx.team, "channel": channel},
        ),
    )


# ------------------------------------------------------------------ buttons


def _changes(action: dict[str, Any], actor_id: int) -> tuple[int, Changes] | None:
    """The ticket and the change a triage button or menu asks for."""
    action_id = action.get("action_id", "")
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    ticket, _, choice = value.partition(":")
    if not ticket.isdigit():
        return None
    tid = int(ticket)
    if action_id == "hub_assign_me":
        return tid, Changes(assigned_to=actor_id)
    if action_id == "hub_priority" and choice:
        return tid, Changes(priority=choice)
    if action_id == "hub_status" and choice:
        return tid, Changes(status=choice, reason="changed from Slack")
    if action_id == "hub_resolve":
        return tid, Changes(status="Resolved", reason="resolved from Slack")
    return None


def on_action(ctx: Ctx, body: dict[str, Any]) -> None:
    """``block_actions`` on our buttons: triage actions by agents, CSAT by the requester."""
    user = (body.get("user") or {}).get("id", "")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id", ""
    )
    for action in body.get("actions") or []:
        action_id = action.get("action_id", "")
        if action_id == "hub_view" or not action_id.startswith("hub_"):
            continue
        person = lookup(ctx.hub, ctx.tenant_id, ctx.client, ctx.team, user, ctx.config.state)
        try:
            if action_id.startswith("hub_csat_"):
                _rate(ctx, body, action, person.email)
                continue
            actor = staff_actor(ctx.hub, ctx.tenant_id, person.email)
            if actor is None or actor.user_id is None:
                _tell(ctx, channel, user, "Only the support team's agents can change tickets.")
                continue
            asked = _changes(action, actor.user_id)
            if asked is None:
                continue
            change(ctx.hub, actor, asked[0], asked[1])
            refresh_triage(ctx, asked[0])
        except HubError as exc:
            _tell(ctx, channel, user, f"Not done: {exc.message}")


def _rate(ctx: Ctx, body: dict[str, Any], action: dict[str, Any], email: str) -> None:
    ticket, _, rating = str(action.get("value") or "").partition(":")
    actor = member_actor(ctx.hub, ctx.tenant_id, email)
    if actor is None or not ticket.isdigit() or not rating.isdigit():
        return
    change(ctx.hub, actor, int(ticket), Changes(satisfaction_rating=int(rating)))
    container = body.get("container") or {}
    if container.get("message_ts") and container.get("channel_id"):
        ctx.client.chat_update(
            channel=container["channel_id"],
            ts=container["message_ts"],
            text=f"Thanks for rating ticket #{ticket}: {'★' * int(rating)}",
            blocks=[],
        )


def refresh_triage(ctx: Ctx, ticket_id: int) -> None:
    """Edit the ticket's triage card to its current status and assignee."""
    shown = card(ctx.hub, ctx.tenant_id, ticket_id)
    if shown is None:
        return
    text, blocks = triage(shown)
    for ref in refs.refs_of(ctx.hub, ctx.tenant_id, ticket_id, TRIAGE):
        ctx.client.chat_update(channel=ref.channel, ts=ref.ts, text=text, blocks=blocks)
