"""Teams users and hub accounts: a Teams user is the hub user with their Teams email.

The email comes from the activity when it carries one, else from the Bot Connector's member
profile (``GET /v3/conversations/{id}/members/{user}``), kept in the plugin state under
``user:<aadObjectId>``. A user whose email cannot be learnt gets a placeholder address
``teams-<aadObjectId>@<tenant>.teams.invalid`` (and the ticket says so).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from core.api import Actor, HubContext, PluginConfig
from core.api import member_actor as find_member
from core.api import staff_actor as find_staff
from plugins.teams.connector import Connector, ConnectorError
from plugins.teams.payloads import aad_tenant_of, conversation_of, placeholder_email, sender_email

log = logging.getLogger(__name__)
PLUGIN = "teams"


@dataclass(frozen=True)
class TeamsUser:
    """The sender of an activity as the hub sees them."""

    teams_id: str
    aad_object_id: str
    email: str
    name: str
    placeholder: bool = False


def sender(
    hub: HubContext, cfg: PluginConfig, activity: dict[str, Any], *, lookup: bool = True
) -> TeamsUser:
    """Who sent the activity: email from the activity, the stored link, the member profile,
    else a placeholder. ``lookup=False`` skips the Bot Connector (outgoing webhooks)."""
    who = activity.get("from") or {}
    teams_id, aad = str(who.get("id") or ""), str(who.get("aadObjectId") or "")
    name = str(who.get("name") or "")
    email = sender_email(activity)
    key = f"user:{aad or teams_id}"
    if email is None:
        cached = cfg.state.get(key)
        if isinstance(cached, dict) and cached.get("email"):
            return TeamsUser(teams_id, aad, cached["email"], cached.get("name") or name)
    if email is None and lookup and cfg.get("app_password") and activity.get("serviceUrl"):
        try:
            profile = Connector(cfg, hub.egress).member(
                str(activity["serviceUrl"]), conversation_of(activity), teams_id
            )
        except ConnectorError as exc:
            log.info("teams member lookup failed: %s", exc)
            profile = {}
        for field in ("email", "userPrincipalName"):
            value = str(profile.get(field) or "")
            if "@" in value:
                email = value.lower()
                name = str(profile.get("name") or name)
                break
    if email is not None:
        link = {"email": email, "name": name}
        if (aad or teams_id) and cfg.state.get(key) != link:
            hub.save_state(cfg.tenant_id, PLUGIN, {key: link})
        return TeamsUser(teams_id, aad, email, name)
    return TeamsUser(
        teams_id,
        aad,
        placeholder_email(aad or teams_id, aad_tenant_of(activity)),
        name,
        placeholder=True,
    )


def member_actor(hub: HubContext, tenant_id: uuid.UUID, email: str) -> Actor | None:
    """Any member of the tenant with this email (a requester rating their ticket)."""
    with hub.session() as s:
        return find_member(s, tenant_id, email)


def staff_actor(hub: HubContext, tenant_id: uuid.UUID, email: str) -> Actor | None:
    """The agent or admin of the tenant with this email, as an actor; None for anyone else."""
    with hub.session() as s:
        return find_staff(s, tenant_id, email)
