"""Reading Slack's inbound payloads: bodies, workspace ids, message text."""

from __future__ import annotations

import hashlib
import html
import json
import re
from typing import Any
from urllib.parse import parse_qs

# Events API event types with a listener (registered from this list in ``service``); every other
# event is acknowledged and ignored.
HANDLED_EVENTS = ("message", "app_mention", "app_uninstalled", "tokens_revoked")
# Message subtypes a person writes; everything else (edits, deletions, joins, bots) is ignored.
HUMAN_SUBTYPES = (None, "", "file_share", "thread_broadcast")
USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]+))?>")
SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")


# The hub's own interactive callbacks and commands (registered in ``service``).
HUB_COMMANDS = ("/ticket", "/reply")
HUB_SHORTCUTS = ("hub_ticket_from_message", "hub_send_to_requester")
HUB_VIEWS = ("hub_new_ticket",)
# Why a recorded payload shape is acknowledged and not acted on (plugins/slack/README.md).
IGNORED_SUBTYPES = {
    "message_changed": "an edit in Slack is not applied to the ticket's comment",
    "message_deleted": "a deletion in Slack does not delete the ticket's comment",
    "bot_message": "messages from bots never become tickets or comments",
}
IGNORED_INTERACTIONS = {
    "block_suggestion": "the hub's blocks have no external select menus to fill",
    "view_closed": "a modal closed without submitting leaves nothing to store",
}


def ignored_reason(
    body: dict[str, Any], bot_user_id: str | None = None, bot_id: str | None = None
) -> str | None:
    """Why the hub acknowledges this request without acting on it, or None when a listener
    takes it. Routing decisions that need the database (channel chatter, bystanders) are made
    and logged by ``intake``."""
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event") or {}
        etype = event.get("type")
        if etype not in HANDLED_EVENTS:
            return f"{etype} events are not used by the hub"
        if etype in ("message", "app_mention") and is_bot_event(event, bot_user_id, bot_id):
            subtype = event.get("subtype")
            if subtype in IGNORED_SUBTYPES:
                return f"message subtype {subtype}: {IGNORED_SUBTYPES[subtype]}"
            if subtype not in HUMAN_SUBTYPES:
                return f"message subtype {subtype} is not a person's message"
            return "messages from bots never become tickets or comments"
        return None
    if kind in IGNORED_INTERACTIONS:
        return f"{kind}: {IGNORED_INTERACTIONS[kind]}"
    if kind in ("shortcut", "message_action") and body.get("callback_id") not in HUB_SHORTCUTS:
        return f"{kind} {body.get('callback_id')} is not one of the hub's shortcuts"
    if kind == "view_submission":
        callback = (body.get("view") or {}).get("callback_id")
        if callback not in HUB_VIEWS:
            return f"view_submission {callback} is not the hub's modal"
    if kind == "block_actions":
        ids = [str(a.get("action_id", "")) for a in body.get("actions") or []]
        if not any(i.startswith("hub_") for i in ids):
            return "block_actions on buttons that are not the hub's"
    if "command" in body and body.get("command") not in HUB_COMMANDS:
        return f"command {body.get('command')} is not one of the hub's"
    return None


def content_key(value: Any) -> str:
    """A dedupe key from a payload's content, for one that lacks its usual id."""
    text = json.dumps(value, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """The request body as a dict: JSON events, form slash commands, or ``payload=<json>``."""
    text = raw.decode("utf-8", errors="replace")
    if "application/json" in content_type or text.startswith("{"):
        try:
            body = json.loads(text)
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
    form = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
    if "payload" in form:
        try:
            body = json.loads(form["payload"])
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
    return form


def team_of(body: dict[str, Any]) -> str | None:
    """The workspace a request comes from, wherever the payload type keeps it."""
    if body.get("team_id"):
        return str(body["team_id"])
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    user = body.get("user")
    if isinstance(user, dict) and user.get("team_id"):
        return str(user["team_id"])
    view = body.get("view")
    if isinstance(view, dict) and view.get("team_id"):
        return str(view["team_id"])
    for auth in body.get("authorizations") or []:
        if isinstance(auth, dict) and auth.get("team_id"):
            return str(auth["team_id"])
    return None


def is_bot_event(event: dict[str, Any], bot_user_id: str | None, bot_id: str | None) -> bool:
    """Messages from any bot (ours included) and non-human subtypes never become tickets."""
    if event.get("bot_id") or event.get("bot_profile") or event.get("subtype") == "bot_message":
        return True
    if event.get("subtype") not in HUMAN_SUBTYPES:
        return True
    user = event.get("user")
    return not user or user in (bot_user_id, bot_id)


def mentions(text: str, user_id: str | None) -> bool:
    """Whether the text @mentions this user."""
    return bool(user_id) and f"<@{user_id}" in (text or "")


def plain_text(
    text: str, names: dict[str, str] | None = None, bot_user_id: str | None = None
) -> str:
    """Slack mrkdwn to plain text: our bot's mention dropped, users as @name, links unwrapped."""
    names = names or {}

    def user(m: re.Match[str]) -> str:
        uid = m.group(1)
        if uid == bot_user_id:
            return ""
        return "@" + names.get(uid, uid)

    def link(m: re.Match[str]) -> str:
        url, label = m.group(1), m.group(2)
        url = url.removeprefix("mailto:") if url.startswith("mailto:") else url
        return f"{label} ({url})" if label and label != url else url

    out = USER_MENTION.sub(user, text or "")
    out = SPECIAL.sub(lambda m: "@" + m.group(1), out)
    out = LINK.sub(link, out)
    return html.unescape(re.sub(r"[ \t]+", " ", out)).strip()


def mentioned_users(text: str) -> list[str]:
    """Slack user ids @mentioned in a text, in order, once each."""
    return list(dict.fromkeys(m.group(1) for m in USER_MENTION.finditer(text or "")))


def view_values(view: dict[str, Any]) -> dict[str, str]:
    """A submitted modal's values by block id (text inputs and static selects)."""
    out: dict[str, str] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        for value in actions.values():
            if value.get("type") == "static_select":
                selected = value.get("selected_option") or {}
                out[block_id] = str(selected.get("value") or "")
            else:
                out[block_id] = str(value.get("value") or "")
    return out
