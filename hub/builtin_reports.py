"""Built-in reports plugin: the weekly report mail, checked every hour by beat."""

from __future__ import annotations

import logging

from core.api import HubContext, PeriodicTask, hookimpl

NAME = "reports"
log = logging.getLogger("hub.builtin_reports")


def run_weekly(hub: HubContext) -> None:
    from hub.report_mail import send_due

    sent = send_due(hub)
    if sent:
        log.info("weekly reports mailed: %d", len(sent))


@hookimpl
def hub_periodic_tasks(hub: HubContext) -> list[PeriodicTask]:
    """The weekly report mail (idempotent: each tenant's week is claimed once)."""
    return [PeriodicTask(name="reports.weekly", seconds=3600, run=run_weekly)]
