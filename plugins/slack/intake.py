"""Tickets from Slack: DMs to the bot, @mentions, /ticket (a modal) and the message shortcut.

Every handler runs after the acknowledgement (a Bolt lazy listener). Dedupe keys start with the
team id: ``<team>:<event_id>`` for events, so a retried event is stored once, and the key row is
written with the ticket in one transaction, so a retry whose first delivery failed still counts.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from core.api import InboundMessage, IngestResult, find_duplicate
from plugins.slack import agents, refs
from plugins.slack.blocks import confirmation, new_ticket_modal
from plugins.slack.context import Ctx
from plugins.slack.files import attachments
from plugins.slack.payloads import content_key, is_bot_event, mentions, plain_text, view_values
from plugins.slack.people import SlackUser, lookup, remember_account
from plugins.slack.refs import THREAD, TRIAGE, ThreadRef
from plugins.slack.tickets import card, requester_email

log = logging.getLogger(__name__)


def _text(ctx: Ctx, text: str) -> str:
    return plain_text(text, bot_user_id=ctx.bot_user_id)


def _ignored(ctx: Ctx, reason: str) -> None:
    log.info("slack message ignored for tenant %s: %s", ctx.tenant_id, reason)


def _event_key(body: dict[str, Any], channel: str, ts: str) -> str:
    """The event's id; without one its channel and timestamp; without those its content."""
    if body.get("event_id"):
        return str(body["event_id"])
    if ts:
        return f"{channel}:{ts}"
    return content_key(body.get("event"))


def on_message(ctx: Ctx, body: dict[str, Any]) -> None:
    """``message`` events: DMs open or continue tickets; channel threads continue known ones."""
    _route(ctx, body, mention=False)


def on_mention(ctx: Ctx, body: dict[str, Any]) -> None:
    """``app_mention``: opens a ticket, or continues the ticket or triage thread it is in."""
    _route(ctx, body, mention=True)


def _route(ctx: Ctx, body: dict[str, Any], *, mention: bool) -> None:
    event = body.get("event") or {}
    if is_bot_event(event, ctx.bot_user_id, ctx.bot_id):
        return _ignored(ctx, "a bot's or non-person message")
    channel, ts = event.get("channel", ""), event.get("ts", "")
    thread_ts = event.get("thread_ts")
    is_dm = event.get("channel_type") == "im" or channel.startswith("D")
    root = ThreadRef(ctx.team, channel, thread_ts) if thread_ts and thread_ts != ts else None
    # Channel chatter is not ours: only threads we know (the mention event covers @bot).
    if (
        not is_dm
        and not mention
        and (root is None or mentions(event.get("text", ""), ctx.bot_user_id))
    ):
        return _ignored(ctx, "channel message outside a ticket's thread (a mention covers @bot)")
    if root is not None and refs.ticket_for(ctx.hub, ctx.tenant_id, TRIAGE, root):
        agents.note(ctx, body, root)
        return
    person = lookup(ctx.hub, ctx.tenant_id, ctx.client, ctx.team, event["user"], ctx.config.state)
    if person.is_bot:
        return _ignored(ctx, "the author is a bot user")
    known = refs.ticket_for(ctx.hub, ctx.tenant_id, THREAD, root) if root else None
    if root is not None and known is None and not is_dm and not mention:
        return _ignored(ctx, "reply in a channel thread that is no ticket's")
    if known is not None and not is_dm and not _may_follow_up(ctx, known, person):
        # a bystander in a channel thread: not theirs to add to
        return _ignored(ctx, f"a bystander's reply in ticket {known}'s thread")
    thread = root or ThreadRef(ctx.team, channel, ts)
    msg = InboundMessage(
        channel="slack",
        dedupe_key=f"{ctx.team}:{_event_key(body, channel, ts)}",
        sender_email=person.email,
        sender_name=person.name,
        body=_text(ctx, event.get("text", "")),
        references=[root.value] if root else [],
        ref_kind=THREAD,
        message_ref=thread.value,
        meta={"team": ctx.team, "channel": channel, "ts": ts, "user": person.slack_id},
    )
    if event.get("files"):
        with ctx.hub.session() as s:
            if find_duplicate(s, ctx.tenant_id, msg) is not None:
                return  # a retry of a stored message: do not fetch its files again
        msg.attachments, skipped = attachments(ctx, event)
        if skipped:
            msg.body += "\n\n(Files not attached: " + "; ".join(skipped) + ")"
    result = ctx.hub.ingest(ctx.tenant_id, msg)
    _after(ctx, person, result, thread)


def _may_follow_up(ctx: Ctx, ticket_id: int, person: SlackUser) -> bool:
    from plugins.slack.people import staff_actor

    owner = requester_email(ctx.hub, ctx.tenant_id, ticket_id)
    if owner and owner.lower() == person.email.lower():
        return True
    return staff_actor(ctx.hub, ctx.tenant_id, person.email) is not None


def _after(ctx: Ctx, person: SlackUser, result: IngestResult, thread: ThreadRef) -> None:
    """Store the account link; answer a new ticket in its thread with number, link and buttons."""
    remember_account(ctx.hub, ctx.tenant_id, ctx.team, person, result.user_id)
    if result.outcome != "ticket" or result.ticket_id is None:
        return
    shown = card(ctx.hub, ctx.tenant_id, result.ticket_id)
    if shown is None:
        return
    text, blocks = confirmation(shown)
    ctx.client.chat_postMessage(
        channel=thread.channel, thread_ts=thread.ts, text=text, blocks=blocks, unfurl_links=False
    )


def on_ticket_command(ctx: Ctx, body: dict[str, Any]) -> None:
    """``/ticket [subject]`` opens the new-ticket modal (trigger ids live 3 s: done first)."""
    ctx.client.views_open(
        trigger_id=body["trigger_id"],
        view=new_ticket_modal(body.get("channel_id", ""), body.get("text", "")),
    )


def on_modal_submit(ctx: Ctx, body: dict[str, Any]) -> None:
    """The modal's ``view_submission``: a ticket, confirmed in a DM that becomes its thread."""
    view = body.get("view") or {}
    values = view_values(view)
    user = (body.get("user") or {}).get("id", "")
    person = lookup(ctx.hub, ctx.tenant_id, ctx.client, ctx.team, user, ctx.config.state)
    msg = InboundMessage(
        channel="slack",
        dedupe_key=f"{ctx.team}:view:{view.get('id') or content_key(view.get('state'))}",
        sender_email=person.email,
        sender_name=person.name,
        subject=values.get("subject", ""),
        body=values.get("description", ""),
        category=values.get("category") or "Other",
        priority=values.get("priority") or "Medium",
        meta={
            "team": ctx.team,
            "user": user,
            "origin": json.loads(view.get("private_metadata") or "{}")
            if (view.get("private_metadata") or "").startswith("{")
            else {},
        },
    )
    result = ctx.hub.ingest(ctx.tenant_id, msg)
    remember_account(ctx.hub, ctx.tenant_id, ctx.team, person, result.user_id)
    if result.outcome != "ticket" or result.ticket_id is None:
        return
    dm = ctx.client.conversations_open(users=user)["channel"]["id"]
    shown = card(ctx.hub, ctx.tenant_id, result.ticket_id)
    if shown is None:
        return
    text, blocks = confirmation(shown)
    posted = ctx.client.chat_postMessage(channel=dm, text=text, blocks=blocks, unfurl_links=False)
    refs.link(
        ctx.hub,
        ctx.tenant_id,
        result.ticket_id,
        THREAD,
        ThreadRef(ctx.team, dm, posted["ts"]).value,
    )


def on_message_shortcut(ctx: Ctx, body: dict[str, Any]) -> None:
    """ "Create ticket from message": the message's author is the requester, its thread the ticket's."""
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id", "")
    invoker = (body.get("user") or {}).get("id", "")
    if message.get("bot_id") or message.get("subtype") == "bot_message":
        ctx.client.chat_postEphemeral(
            channel=channel, user=invoker, text="Tickets are not opened from bot messages."
        )
        return
    author = message.get("user") or invoker
    person = lookup(ctx.hub, ctx.tenant_id, ctx.client, ctx.team, author, ctx.config.state)
    if person.is_bot:
        return
    ts = message.get("ts") or body.get("message_ts", "")
    thread = ThreadRef(ctx.team, channel, message.get("thread_ts") or ts)
    msg = InboundMessage(
        channel="slack",
        dedupe_key=f"{ctx.team}:shortcut:{channel}:{ts or content_key(body.get('message'))}",
        sender_email=person.email,
        sender_name=person.name,
        body=_text(ctx, message.get("text", "")),
        ref_kind=THREAD,
        message_ref=thread.value,
        meta={"team": ctx.team, "channel": channel, "ts": ts, "by": invoker},
    )
    result = ctx.hub.ingest(ctx.tenant_id, msg)
    if result.outcome == "duplicate":
        ctx.client.chat_postEphemeral(
            channel=channel,
            user=invoker,
            text=f"That message is already ticket #{result.ticket_id}.",
        )
        return
    _after(ctx, person, result, thread)
