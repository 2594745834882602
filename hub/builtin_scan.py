"""Built-in scanning: ClamAV as the ``hub_scan_attachment`` engine (``trylast``: an installed
engine replaces it), when ``HUB_CLAMD_SOCKET`` names a clamd; and the periodic rescan of files
held unscanned while the scanner was down."""

from __future__ import annotations

import logging
import uuid

from core.api import HubContext, PeriodicTask, ScanVerdict, hookimpl
from core.services import quarantine

NAME = "clamav"
RESCAN_SECONDS = 300
log = logging.getLogger("hub.scan")


@hookimpl(trylast=True)
def hub_scan_attachment(
    data: bytes, filename: str, tenant_id: uuid.UUID, hub: HubContext
) -> ScanVerdict | None:
    """clamd's verdict; None when no clamd is configured. Raises ScanUnavailable when down."""
    address = getattr(getattr(hub, "settings", None), "clamd_socket", "")
    if not address:
        return None
    from hub.scan import scan_bytes

    found = scan_bytes(address, data)
    if found:
        return ScanVerdict("infected", signature=found, engine=NAME)
    return ScanVerdict("clean", engine=NAME)


def run_rescan(hub: HubContext) -> quarantine.RescanResult:
    """Rescan files held unscanned, every tenant, in batches until none is left or the scanner
    is still down."""
    total = quarantine.RescanResult()
    scan = hub.attachment_policy.scan
    if scan is None:
        return total
    while True:
        with hub.session() as s:
            done = quarantine.rescan(s, scan, hub.blob_store)
        total.clean += done.clean
        total.infected += done.infected
        total.still_unscanned = done.still_unscanned
        if done.still_unscanned or not (done.clean or done.infected):
            break
    if total.clean or total.infected or total.still_unscanned:
        log.info(
            "rescan: %d clean, %d infected, %d still unscanned",
            total.clean,
            total.infected,
            total.still_unscanned,
        )
    return total


def _rescan_task(hub: HubContext) -> None:
    run_rescan(hub)


@hookimpl
def hub_periodic_tasks(hub: HubContext) -> list[PeriodicTask]:
    """The rescan of held files, every five minutes (idempotent: it takes held files only)."""
    return [PeriodicTask(name="scan.rescan", seconds=RESCAN_SECONDS, run=_rescan_task)]
