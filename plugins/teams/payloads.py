"""Reading Bot Framework activities: who, where, what text."""

from __future__ import annotations

import hashlib
import html
import json
import re
from typing import Any

# Bot Framework activity types with an effect (``intake.handle_activity``); every other type is
# answered 200 and ignored.
HANDLED_EVENTS = ("message", "conversationUpdate", "invoke")
AT = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
TAG = re.compile(r"<[^>]+>")
MAX_KEY = 300  # InboundKey.key


def app_id_of(activity: dict[str, Any]) -> str:
    """The bot's app id from the recipient (``28:<app id>`` in Teams)."""
    rid = str((activity.get("recipient") or {}).get("id") or "")
    return rid.split(":", 1)[1] if rid.startswith("28:") else rid


def conversation_of(activity: dict[str, Any]) -> str:
    """The conversation id (a channel thread's carries ``;messageid=<root>``)."""
    return str((activity.get("conversation") or {}).get("id") or "")


def split_thread(conversation: str) -> tuple[str, str]:
    """A channel thread's conversation id as (channel id, root message id); ("", "") otherwise."""
    base, sep, root = conversation.partition(";messageid=")
    return (base, root) if sep and base and root else ("", "")


def conversation_type(activity: dict[str, Any]) -> str:
    """``personal``, ``channel`` or ``groupChat`` (personal when unsaid and not a group)."""
    conv = activity.get("conversation") or {}
    kind = conv.get("conversationType")
    if kind:
        return str(kind)
    return "groupChat" if conv.get("isGroup") else "personal"


def aad_tenant_of(activity: dict[str, Any]) -> str:
    """The Microsoft Entra tenant of the conversation."""
    conv = activity.get("conversation") or {}
    data = activity.get("channelData") or {}
    return str(conv.get("tenantId") or (data.get("tenant") or {}).get("id") or "")


def is_from_bot(activity: dict[str, Any]) -> bool:
    """Our own (or any bot's) message: never a ticket, or we would answer ourselves forever."""
    sender = activity.get("from") or {}
    recipient = activity.get("recipient") or {}
    sid = str(sender.get("id") or "")
    return (
        sender.get("role") == "bot"
        or sid.startswith("28:")
        or (bool(sid) and sid == recipient.get("id"))
    )


def plain_text(activity: dict[str, Any]) -> str:
    """The message text without ``<at>`` mentions (of the bot) and markup."""
    text = str(activity.get("text") or "")
    if activity.get("textFormat") not in (None, "plain", "markdown") or "<" in text:
        text = TAG.sub(" ", AT.sub(" ", text))
        text = html.unescape(text)
    return re.sub(r"[ \t]+", " ", text).strip()


def sender_email(activity: dict[str, Any]) -> str | None:
    """An email the activity itself carries for its sender (Teams rarely sends one)."""
    sender = activity.get("from") or {}
    for key in ("email", "userPrincipalName"):
        value = str(sender.get(key) or "")
        if "@" in value:
            return value.lower()
    return None


def placeholder_email(aad_object_id: str, aad_tenant: str) -> str:
    """For a user whose email we cannot learn: ``teams-<aadObjectId>@<tenant>.teams.invalid``."""
    local = re.sub(r"[^a-z0-9-]", "", aad_object_id.lower()) or "unknown"
    domain = re.sub(r"[^a-z0-9-]", "", aad_tenant.lower()) or "unknown"
    return f"teams-{local}@{domain}.teams.invalid"


def activity_id(activity: dict[str, Any]) -> str:
    """The activity's id; for an activity sent without one (some connectors and replays do),
    ``sha256:<hex>`` of its content (type, sender, conversation, text, value, attachments,
    timestamp), so that it is still stored once, never dropped."""
    given = str(activity.get("id") or "")
    if given:
        return given
    content = {
        "type": activity.get("type"),
        "from": (activity.get("from") or {}).get("id"),
        "conversation": conversation_of(activity),
        "text": activity.get("text"),
        "value": activity.get("value"),
        "attachments": activity.get("attachments"),
        "timestamp": activity.get("timestamp") or activity.get("localTimestamp"),
        "replyToId": activity.get("replyToId"),
    }
    canonical = json.dumps(content, sort_keys=True, default=str, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def dedupe_key(prefix: str, activity: dict[str, Any]) -> str:
    """``<prefix>:<activity id>@<conversation>`` (activity ids are unique per conversation; a
    content hash stands in for a missing id); hashed when it would not fit the key column."""
    key = f"{prefix}:{activity_id(activity)}@{conversation_of(activity)}"
    if len(key) <= MAX_KEY:
        return key
    return f"{prefix}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
