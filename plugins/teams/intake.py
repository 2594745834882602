"""Tickets from Teams: Bot Framework activities and outgoing-webhook messages.

- ``message`` from a person: continues the ticket of the activity it replies to (``replyToId``),
  else the ticket of its conversation (a channel thread is one ticket; a personal chat continues
  its latest ticket until that one is resolved or closed), else opens a ticket. The bot's own
  messages are ignored (they would loop).
- ``conversationUpdate`` adding the bot: the conversation and its service URL are stored (the
  triage conversation is posted to with them).
- ``invoke`` ``adaptiveCard/action`` from the triage card: an agent assigns or resolves.

Dedupe keys are ``bot:<activity id>@<conversation>`` (``webhook:`` for outgoing webhooks), written
with the ticket or comment in one transaction by ``hub.ingest``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from core.api import (
    Changes,
    HubContext,
    HubError,
    InboundMessage,
    IngestResult,
    PluginConfig,
    find_duplicate,
    now,
    record_seen,
    seen,
)
from plugins.teams import refs
from plugins.teams.cards import RATINGS, invoke_card, invoke_message, rated, triage
from plugins.teams.files import attachments
from plugins.teams.payloads import (
    HANDLED_EVENTS,
    activity_id,
    conversation_of,
    conversation_type,
    dedupe_key,
    is_from_bot,
    plain_text,
    split_thread,
)
from plugins.teams.people import TeamsUser, member_actor, sender, staff_actor
from plugins.teams.refs import ACTIVITY, CONVERSATION, ConvRef
from plugins.teams.tickets import card, change, note, requester_email

log = logging.getLogger(__name__)
PLUGIN = "teams"
CHANNEL = "teams"


def remember_service_url(hub: HubContext, cfg: PluginConfig, activity: dict[str, Any]) -> None:
    """Keep the latest service URL (the fallback endpoint for conversations we know no other)."""
    url = str(activity.get("serviceUrl") or "")
    if url and cfg.state.get("service_url") != url:
        hub.save_state(cfg.tenant_id, PLUGIN, {"service_url": url})


def remember_personal_chat(
    hub: HubContext, cfg: PluginConfig, email: str, conversation: str, service_url: str
) -> None:
    """The person's 1:1 chat with the bot: where their DMs (``hub_notify_person``) go."""
    key = f"personal:{email.lower()}"
    link = {"conversation": conversation, "service_url": service_url}
    if cfg.state.get(key) != link:
        hub.save_state(cfg.tenant_id, PLUGIN, {key: link})


def _thread(hub: HubContext, cfg: PluginConfig, activity: dict[str, Any]) -> int | None:
    conv = conversation_of(activity)
    reply_to = str(activity.get("replyToId") or "")
    if reply_to:
        known = refs.ticket_by_reply(hub, cfg.tenant_id, conv, reply_to)
        if known is not None:
            return known
    return refs.ticket_by_conversation(
        hub, cfg.tenant_id, conv, open_only=conversation_type(activity) == "personal"
    )


def triage_note(
    hub: HubContext, cfg: PluginConfig, activity: dict[str, Any]
) -> tuple[IngestResult, TeamsUser] | None:
    """A message in a triage card's thread: an agent's internal note on its ticket; anyone
    else's is ignored (the triage channel never opens tickets)."""
    channel, root = split_thread(conversation_of(activity))
    ticket_id = refs.ticket_of_triage(hub, cfg.tenant_id, channel, root) if root else None
    if ticket_id is None:
        log.info("teams: message in the triage channel outside a triage card's thread ignored")
        return None
    person = sender(hub, cfg, activity)
    if staff_actor(hub, cfg.tenant_id, person.email) is None:
        log.info("teams: a non-agent's message in a triage thread ignored (ticket %s)", ticket_id)
        return None
    result = hub.ingest(
        cfg.tenant_id,
        InboundMessage(
            channel=CHANNEL,
            dedupe_key=dedupe_key("bot", activity),
            sender_email=person.email,
            sender_name=person.name,
            body=plain_text(activity),
            ticket_hint=ticket_id,
            internal=True,
            meta={"conversation": conversation_of(activity), "triage": True},
        ),
    )
    return result, person


def _may_follow_up(hub: HubContext, cfg: PluginConfig, ticket_id: int, person: TeamsUser) -> bool:
    owner = requester_email(hub, cfg.tenant_id, ticket_id)
    if owner and owner.lower() == person.email.lower():
        return True
    return staff_actor(hub, cfg.tenant_id, person.email) is not None


def ingest_message(
    hub: HubContext, cfg: PluginConfig, activity: dict[str, Any], *, via: str
) -> tuple[IngestResult, TeamsUser] | None:
    """A person's message into a ticket or a comment; None when it is not ours to take."""
    if is_from_bot(activity):
        # our own (or another bot's) message: answering it would loop
        log.info("teams: %s activity %s ignored: sent by a bot", via, activity_id(activity)[:80])
        return None
    if not conversation_of(activity):
        log.warning(
            "teams: %s activity %s ignored: it names no conversation to answer in",
            via,
            activity_id(activity)[:80],
        )
        return None
    conv = conversation_of(activity)
    service_url = str(activity.get("serviceUrl") or "")
    remember_service_url(hub, cfg, activity)
    triage_conv = str(cfg.get("triage_conversation") or "")
    if triage_conv and (conv == triage_conv or split_thread(conv)[0] == triage_conv):
        if via != "bot":
            log.info("teams: outgoing-webhook message in the triage channel ignored")
            return None
        return triage_note(hub, cfg, activity)
    known = _thread(hub, cfg, activity)
    person = sender(hub, cfg, activity, lookup=via == "bot")
    if via == "bot" and conversation_type(activity) == "personal" and not person.placeholder:
        remember_personal_chat(hub, cfg, person.email, conv, service_url)
    if (
        known is not None
        and conversation_type(activity) != "personal"
        and not _may_follow_up(hub, cfg, known, person)
    ):
        # a bystander in a ticket's channel thread: not theirs to add to
        log.info("teams: a bystander's message in ticket %s's thread ignored", known)
        return None
    here = ConvRef(conv, activity_id(activity), service_url, via)
    msg = InboundMessage(
        channel=CHANNEL,
        dedupe_key=dedupe_key(via, activity),
        sender_email=person.email,
        sender_name=person.name,
        body=plain_text(activity),
        ticket_hint=known,
        ref_kind=ACTIVITY if known else CONVERSATION,
        message_ref=here.value,
        meta={
            "conversation": conv,
            "activity": activity_id(activity),
            "via": via,
            "aad_object_id": person.aad_object_id,
        },
    )
    if via == "bot" and activity.get("attachments"):
        with hub.session() as s:
            if find_duplicate(s, cfg.tenant_id, msg) is not None:
                return None  # a retry of a stored message: do not fetch its files again
        msg.attachments, skipped = attachments(
            cfg, activity, hub.attachment_policy.max_bytes, hub.egress
        )
        if not msg.body and msg.attachments:
            msg.body = "Sent files: " + ", ".join(a.file_name for a in msg.attachments)
        if skipped:
            msg.body += "\n\n(Files not attached: " + "; ".join(skipped) + ")"
    result = hub.ingest(cfg.tenant_id, msg)
    if result.outcome == "ticket" and result.ticket_id is not None:
        # The ref was written with the ticket; its meta (where to answer) is completed here.
        refs.link(hub, cfg.tenant_id, result.ticket_id, CONVERSATION, here)
        if person.placeholder:
            note(
                hub,
                cfg.tenant_id,
                result.ticket_id,
                f"The Teams user {person.name or person.teams_id} (Entra object id "
                f"{person.aad_object_id or 'unknown'}) did not share an email address; the "
                f"requester was recorded as {person.email}.",
            )
    return result, person


def on_conversation_update(hub: HubContext, cfg: PluginConfig, activity: dict[str, Any]) -> None:
    """The bot added to (or removed from) a conversation: store it with its service URL."""
    bot = str((activity.get("recipient") or {}).get("id") or "")
    conv = conversation_of(activity)
    if not bot or not conv:
        return
    added = any(m.get("id") == bot for m in activity.get("membersAdded") or [])
    removed = any(m.get("id") == bot for m in activity.get("membersRemoved") or [])
    if not added and not removed:
        return
    data = activity.get("channelData") or {}
    team = data.get("team") or {}
    hub.save_state(
        cfg.tenant_id,
        PLUGIN,
        {
            "service_url": activity.get("serviceUrl") or cfg.state.get("service_url") or "",
            f"conversation:{conv}": {
                "service_url": activity.get("serviceUrl") or "",
                "type": conversation_type(activity),
                "team_id": team.get("id"),
                "team_name": team.get("name"),
                "installed": added and not removed,
                "at": now().isoformat(),
            },
        },
    )


def _asked(action: dict[str, Any], actor_id: int) -> Changes | None:
    data = action.get("data") if isinstance(action.get("data"), dict) else {}
    verb = str(action.get("verb") or (data or {}).get("verb") or "")
    if verb == "assign_me":
        return Changes(assigned_to=actor_id)
    if verb == "resolve":
        return Changes(status="Resolved", reason="resolved from Teams")
    return None


def _seen(hub: HubContext, cfg: PluginConfig, key: str) -> bool:
    with hub.session() as s:
        return seen(s, cfg.tenant_id, CHANNEL, key)


def _remember(hub: HubContext, cfg: PluginConfig, key: str, ticket_id: int) -> None:
    with hub.session() as s:
        record_seen(s, cfg.tenant_id, CHANNEL, key, ticket_id=ticket_id, outcome="action")


def on_card_action(hub: HubContext, cfg: PluginConfig, activity: dict[str, Any]) -> dict[str, Any]:
    """``adaptiveCard/action``: from the triage card, assign to me or resolve (an agent); from
    the resolution card, the requester's rating.

    Answers the invoke with the updated card (it replaces the one clicked), or a message."""
    value = activity.get("value") or {}
    action = value.get("action") or {}
    data = action.get("data") if isinstance(action.get("data"), dict) else {}
    ticket_id: int | None = None
    raw_id = (data or {}).get("ticket")
    if isinstance(raw_id, int) or (isinstance(raw_id, str) and raw_id.isdigit()):
        ticket_id = int(raw_id)
    elif activity.get("replyToId"):
        ticket_id = refs.ticket_of_triage(
            hub, cfg.tenant_id, conversation_of(activity), str(activity["replyToId"])
        )
    if ticket_id is None or card(hub, cfg.tenant_id, ticket_id) is None:
        return invoke_message("This card does not belong to a ticket here.")
    person = sender(hub, cfg, activity)
    if str(action.get("verb") or "") == "rate":
        return _on_rating(hub, cfg, activity, ticket_id, person.email, data or {})
    actor = staff_actor(hub, cfg.tenant_id, person.email)
    if actor is None or actor.user_id is None:
        return invoke_message("Only the support team's agents can change tickets.")
    changes = _asked(action, actor.user_id)
    if changes is None:
        return invoke_message("This action is not known.")
    key = dedupe_key("invoke", activity)
    if not _seen(hub, cfg, key):
        try:
            change(hub, actor, ticket_id, changes)
        except HubError as exc:
            return invoke_message(f"Not done: {exc.message}")
        _remember(hub, cfg, key, ticket_id)
    shown = card(hub, cfg.tenant_id, ticket_id)
    assert shown is not None
    return invoke_card(triage(shown))


def _on_rating(
    hub: HubContext,
    cfg: PluginConfig,
    activity: dict[str, Any],
    ticket_id: int,
    email: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    """The requester's 1-to-5 rating from the resolution card (only the requester may: the
    ticket service refuses anyone else); the card is replaced by a thank-you."""
    rating = data.get("rating")
    if isinstance(rating, str) and rating.isdigit():
        rating = int(rating)
    if not isinstance(rating, int) or isinstance(rating, bool) or rating not in RATINGS:
        return invoke_message("A rating is a number from 1 to 5.")
    actor = member_actor(hub, cfg.tenant_id, email)
    if actor is None:
        return invoke_message("Only the person who asked can rate this ticket.")
    key = dedupe_key("invoke", activity)
    if not _seen(hub, cfg, key):
        try:
            change(hub, actor, ticket_id, Changes(satisfaction_rating=rating))
        except HubError as exc:
            return invoke_message(f"Not rated: {exc.message}")
        _remember(hub, cfg, key, ticket_id)
    shown = card(hub, cfg.tenant_id, ticket_id)
    assert shown is not None
    return invoke_card(rated(shown, rating))


def _on_message(hub: HubContext, cfg: PluginConfig, activity: dict[str, Any]) -> None:
    ingest_message(hub, cfg, activity, via="bot")


def _on_invoke(hub: HubContext, cfg: PluginConfig, activity: dict[str, Any]) -> dict[str, Any]:
    if activity.get("name") == "adaptiveCard/action":
        return on_card_action(hub, cfg, activity)
    return {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Not supported.",
    }


# One handler per activity type of ``payloads.HANDLED_EVENTS`` (a test holds them equal).
HANDLERS: dict[str, Callable[[HubContext, PluginConfig, dict[str, Any]], dict[str, Any] | None]] = {
    "message": _on_message,
    "conversationUpdate": on_conversation_update,
    "invoke": _on_invoke,
}


def handle_activity(
    hub: HubContext, cfg: PluginConfig, activity: dict[str, Any]
) -> dict[str, Any] | None:
    """Process one authenticated activity; returns an invoke response body, or None."""
    kind = str(activity.get("type") or "")
    handler = HANDLERS.get(kind) if kind in HANDLED_EVENTS else None
    if handler is None:
        log.info("teams: activity type %r is not handled", kind[:40])
        return None
    return handler(hub, cfg, activity)


def webhook_reply(result: IngestResult | None) -> str:
    """The outgoing webhook's synchronous answer, naming the ticket."""
    if result is None or result.ticket_id is None:
        return "Nothing was recorded."
    if result.outcome == "ticket":
        return f"Created ticket #{result.ticket_id} - we will reply in this thread."
    if result.outcome == "comment":
        return f"Added to ticket #{result.ticket_id}."
    return f"Already recorded on ticket #{result.ticket_id}."
