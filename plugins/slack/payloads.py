"""Reading Slack's inbound payloads: bodies, workspace ids, message text."""

from __future__ import annotations

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
