"""Teams' "Test connection": the bot's own token from Microsoft's sign-in (msal, through the
egress policy), which proves the app id and client secret."""

from __future__ import annotations

import uuid

from core.api import ConnectionCheck, HubContext
from plugins.teams.bot_token import TOKENS
from plugins.teams.errors import ConnectorRejected, ConnectorUnavailable

PLUGIN = "teams"


def check(hub: HubContext, tenant_id: uuid.UUID) -> ConnectionCheck:
    try:
        TOKENS.token(hub.config(tenant_id, PLUGIN), hub.egress)
    except ConnectorRejected as exc:
        return ConnectionCheck(False, f"Microsoft sign-in refused the bot: {exc}.")
    except ConnectorUnavailable as exc:
        return ConnectionCheck(False, f"Microsoft sign-in could not be reached: {exc}.")
    return ConnectionCheck(True, "Microsoft sign-in accepted the bot's app id and client secret.")
