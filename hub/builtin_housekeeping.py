"""Built-in housekeeping: sign-in links and console sessions that can no longer be used are
deleted a week after they ended (every requester mail makes a link; every sign-in a session)."""

from __future__ import annotations

import logging

from core.api import HubContext, PeriodicTask, hookimpl
from core.services import links, sessions

NAME = "housekeeping"
log = logging.getLogger("hub.housekeeping")


def run_purge(hub: HubContext) -> None:
    with hub.session() as s:
        gone_links, gone_sessions = links.purge(s), sessions.purge(s)
    if gone_links or gone_sessions:
        log.info("purged %d ended links and %d ended sessions", gone_links, gone_sessions)


@hookimpl
def hub_periodic_tasks(hub: HubContext) -> list[PeriodicTask]:
    """The purge, hourly (idempotent: it deletes what is past its keep time)."""
    return [PeriodicTask(name="housekeeping.purge", seconds=3600, run=run_purge)]
