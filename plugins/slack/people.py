"""Slack users and hub accounts: a Slack user is the hub user with their Slack email.

The link (Slack user id -> email, name) is kept in the plugin state under ``user:<team>:<id>``,
one key per user so that concurrent merges never lose each other's entries.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.api import Actor, HubContext
from core.api import member_actor as find_member
from core.api import staff_actor as find_staff

log = logging.getLogger(__name__)
PLUGIN = "slack"


@dataclass(frozen=True)
class SlackUser:
    """What the hub needs to know about a Slack user."""

    slack_id: str
    email: str
    name: str
    is_bot: bool = False


def _key(team: str, user: str) -> str:
    return f"user:{team}:{user}"


def placeholder_email(team: str, user: str) -> str:
    """For a Slack user whose email the app may not read (no users:read.email scope)."""
    return f"slack-{user.lower()}@{team.lower()}.slack.invalid"


def lookup(
    hub: HubContext,
    tenant_id: uuid.UUID,
    client: WebClient,
    team: str,
    user: str,
    state: dict | None = None,
) -> SlackUser:
    """The Slack user by id: from the stored link, else ``users.info`` (then stored)."""
    if state is None:
        state = hub.config(tenant_id, PLUGIN).state
    cached = state.get(_key(team, user))
    if isinstance(cached, dict) and cached.get("email"):
        return SlackUser(user, cached["email"], cached.get("name", ""), bool(cached.get("bot")))
    info = client.users_info(user=user)["user"]
    profile = info.get("profile") or {}
    is_bot = bool(info.get("is_bot")) or info.get("id") == "USLACKBOT"
    email = profile.get("email") or placeholder_email(team, user)
    name = profile.get("real_name") or info.get("real_name") or info.get("name") or ""
    hub.save_state(
        tenant_id, PLUGIN, {_key(team, user): {"email": email, "name": name, "bot": is_bot}}
    )
    return SlackUser(user, email, name, is_bot)


def remember_account(
    hub: HubContext, tenant_id: uuid.UUID, team: str, person: SlackUser, user_id: int | None
) -> None:
    """Store the hub account id next to the Slack user (the link)."""
    if user_id is None:
        return
    hub.save_state(
        tenant_id,
        PLUGIN,
        {
            _key(team, person.slack_id): {
                "email": person.email,
                "name": person.name,
                "bot": person.is_bot,
                "user_id": user_id,
            }
        },
    )


def slack_id_for(
    hub: HubContext, tenant_id: uuid.UUID, client: WebClient, team: str, email: str
) -> str | None:
    """The Slack user id of a hub user by email: the stored link, else ``users.lookupByEmail``."""
    state = hub.config(tenant_id, PLUGIN).state
    prefix = f"user:{team}:"
    for key, value in state.items():
        if (
            key.startswith(prefix)
            and isinstance(value, dict)
            and str(value.get("email", "")).lower() == email.lower()
        ):
            return key[len(prefix) :]
    try:
        info = client.users_lookupByEmail(email=email)["user"]
    except SlackApiError as exc:
        log.info("no Slack user for a hub agent: %s", exc.response.get("error"))
        return None
    hub.save_state(
        tenant_id,
        PLUGIN,
        {
            _key(team, info["id"]): {
                "email": email,
                "name": (info.get("profile") or {}).get("real_name", ""),
                "bot": False,
            }
        },
    )
    return str(info["id"])


def staff_actor(hub: HubContext, tenant_id: uuid.UUID, email: str) -> Actor | None:
    """The agent or admin of the tenant with this email, as an actor; None for anyone else."""
    with hub.session() as s:
        return find_staff(s, tenant_id, email)


def member_actor(hub: HubContext, tenant_id: uuid.UUID, email: str) -> Actor | None:
    """Any member of the tenant with this email, as an actor."""
    with hub.session() as s:
        return find_member(s, tenant_id, email)
