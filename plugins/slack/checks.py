"""Slack's "Test connection": ``auth.test`` with the tenant's bot token, through the egress
policy; the answer in words (the workspace and the bot's name, or Slack's error code)."""

from __future__ import annotations

import uuid

from slack_sdk.errors import SlackApiError

from core.api import ConnectionCheck, HubContext
from plugins.slack.service import make_client

PLUGIN = "slack"


def check(hub: HubContext, tenant_id: uuid.UUID) -> ConnectionCheck:
    cfg = hub.config(tenant_id, PLUGIN)
    if not cfg.get("bot_token"):
        return ConnectionCheck(False, "No bot token is set: paste the app's xoxb- token first.")
    try:
        answer = make_client(cfg, hub.egress).auth_test()
    except SlackApiError as exc:
        code = exc.response.get("error", "unknown_error") if exc.response else "unknown_error"
        return ConnectionCheck(False, f"Slack refused the bot token: {code}.")
    except Exception as exc:  # unreachable, refused by the egress policy, TLS
        return ConnectionCheck(False, f"Slack could not be reached: {type(exc).__name__}.")
    team, user = answer.get("team") or "?", answer.get("user") or "?"
    note = ""
    mine = str(cfg.get("team_id") or "")
    if mine and answer.get("team_id") and mine != answer["team_id"]:
        note = f" The workspace id set here ({mine}) is not this token's."
        return ConnectionCheck(False, f"Slack answered for workspace {team}.{note}")
    return ConnectionCheck(True, f"Slack answered: the bot is @{user} in workspace {team}.")
