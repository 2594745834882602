"""Built-in person-data work: exports left pending are built, and each tenant's retention
schedule runs once a day (both idempotent)."""

from __future__ import annotations

import logging

from core.api import HubContext, PeriodicTask, hookimpl

NAME = "privacy"
log = logging.getLogger("hub.privacy")


def run_exports(hub: HubContext) -> None:
    from hub import privacy

    privacy.run_pending_exports(hub)  # type: ignore[arg-type]


def run_retention(hub: HubContext) -> None:
    from hub import privacy

    for tenant_id in privacy.scheduled_tenants(hub):  # type: ignore[arg-type]
        try:
            privacy.run_retention(hub, tenant_id)  # type: ignore[arg-type]
        except Exception:
            log.exception("retention of tenant %s stopped; the next run resumes it", tenant_id)


@hookimpl
def hub_periodic_tasks(hub: HubContext) -> list[PeriodicTask]:
    """Exports every 30 s, retention daily."""
    return [
        PeriodicTask(name="privacy.exports", seconds=30, run=run_exports),
        PeriodicTask(name="privacy.retention", seconds=86400, run=run_retention),
    ]
