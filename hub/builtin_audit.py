"""Built-in audit sealer: every minute, links the audit rows written since into their tenant's
hash chain (core.audit_chain). Writers never wait for it; ``hub audit verify`` counts the rows it
has not reached yet as unsealed."""

from __future__ import annotations

import logging

from core.api import HubContext, PeriodicTask, hookimpl
from core.audit_chain import seal_all

NAME = "audit-sealer"
SEAL_EVERY_SECONDS = 60
log = logging.getLogger("hub.audit")


def run_seal(hub: HubContext) -> None:
    """Seal every tenant's waiting rows, a batch per transaction."""
    with hub.session() as s:
        sealed = seal_all(s)
    if sealed:
        log.info("sealed %d audit rows", sealed)


@hookimpl
def hub_periodic_tasks(hub: HubContext) -> list[PeriodicTask]:
    """The sealer, every minute (idempotent: it links only what is unsealed)."""
    return [PeriodicTask(name="audit.seal", seconds=SEAL_EVERY_SECONDS, run=run_seal)]
