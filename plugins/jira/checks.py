"""Jira's "Test connection": ``myself`` with the tenant's credentials, through the egress
policy; the answer in words (who the hub signs in as, or Jira's refusal)."""

from __future__ import annotations

import uuid

from core.api import ConnectionCheck, HubContext
from plugins.jira.client import Rejected, Retryable, call, connect
from plugins.jira.settings import load

PLUGIN = "jira"


def check(hub: HubContext, tenant_id: uuid.UUID) -> ConnectionCheck:
    settings = load(hub.config(tenant_id, PLUGIN))
    if not settings.server:
        return ConnectionCheck(False, "No Jira address is set.")
    try:
        me = call(lambda: connect(settings, hub.egress).myself())
    except Rejected as exc:
        return ConnectionCheck(False, f"Jira refused the credentials: {exc.message}.")
    except Retryable as exc:
        return ConnectionCheck(False, f"Jira could not be reached: {exc}.")
    except Exception as exc:  # TLS and the like
        return ConnectionCheck(False, f"Jira could not be reached: {type(exc).__name__}.")
    who = me.get("displayName") or me.get("name") or me.get("accountId") or "?"
    return ConnectionCheck(True, f"Jira answered: the hub signs in as {who}.")
