"""The email plugin's admin tables: mail that could not become a ticket (parked, with its
reason and headers; released into a ticket or deleted), addresses that bounce (cleared by
hand), and the bounce reports received."""

from __future__ import annotations

import uuid
from email.parser import HeaderParser
from email.policy import default as default_policy

from sqlalchemy import delete, select

from core.api import AdminActionResult, AdminRow, AdminTable, HubContext
from plugins.email import failing
from plugins.email.delivery import deliver, settings_of
from plugins.email.models import Bounce, FailingAddress, ParkedMessage

NAME = "email"
LIMIT = 100
HEADER_BYTES = 16_384


def _at(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if hasattr(value, "strftime") else str(value)


def _headers(hub: HubContext, key: str | None) -> str:
    """The header block of a stored message, as text (never its body)."""
    if not key:
        return ""
    try:
        raw = hub.blob_store.get(key)[:HEADER_BYTES]
    except (OSError, KeyError):
        return "(the stored message is gone)"
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    return head.decode("utf-8", errors="replace")


def _parked_row(hub: HubContext, row: ParkedMessage) -> AdminRow:
    """A parked message as the admin sees it: its subject and sender read from its own headers
    (a message that failed to parse was parked before anything was read of it)."""
    head = _headers(hub, row.raw_path)
    fields = HeaderParser(policy=default_policy).parsestr(head) if head else None
    subject = row.subject or (str(fields.get("Subject", "")) if fields else "")
    sender = str(fields.get("From", "")) if fields else ""
    return AdminRow(
        id=str(row.id),
        cells=(
            (subject or "(no subject)")[:255],
            sender[:255],
            _at(row.created_at),
            row.source,
            row.reason,
        ),
        detail=head,
        actions=("release", "delete") if row.raw_path else ("delete",),
    )


def tables(hub: HubContext, tenant_id: uuid.UUID) -> list[AdminTable]:
    with hub.session() as s:
        parked = list(
            s.scalars(
                select(ParkedMessage)
                .where(ParkedMessage.tenant_id == tenant_id)
                .order_by(ParkedMessage.id.desc())
                .limit(LIMIT)
            )
        )
        failing_rows = list(
            s.scalars(
                select(FailingAddress)
                .where(FailingAddress.tenant_id == tenant_id)
                .order_by(FailingAddress.last_bounce_at.desc(), FailingAddress.id.desc())
                .limit(LIMIT)
            )
        )
        bounces = list(
            s.scalars(
                select(Bounce)
                .where(Bounce.tenant_id == tenant_id)
                .order_by(Bounce.id.desc())
                .limit(LIMIT)
            )
        )
        parked_rows = tuple(_parked_row(hub, p) for p in parked)
        failing_table = tuple(
            AdminRow(
                id=f.address,
                cells=(f.address, str(f.bounces), _at(f.last_bounce_at)),
                actions=("clear",),
            )
            for f in failing_rows
        )
        bounce_rows = tuple(
            AdminRow(
                id=str(b.id),
                cells=(
                    _at(b.created_at),
                    ", ".join(str(r) for r in b.recipients) or "—",
                    ", ".join(str(m) for m in b.marked) or "—",
                ),
            )
            for b in bounces
        )
    return [
        AdminTable(
            plugin=NAME,
            key="parked",
            title="Parked mail",
            description=(
                "Messages that could not become a ticket or a comment, with the reason. Release "
                "one once the reason is fixed (it is delivered again as if it had just arrived), "
                "or delete it."
            ),
            columns=("Subject", "From", "Received", "Received by", "Reason"),
            rows=parked_rows,
            actions={"release": "Release into a ticket", "delete": "Delete"},
            confirm=frozenset({"delete"}),
        ),
        AdminTable(
            plugin=NAME,
            key="failing",
            title="Bouncing addresses",
            description=(
                "Addresses this organisation sends no mail to since their mail bounced. A later "
                "message from the address clears it by itself; clear it here when it works again."
            ),
            columns=("Address", "Bounces", "Last bounce"),
            rows=failing_table,
            actions={"clear": "Send mail again"},
        ),
        AdminTable(
            plugin=NAME,
            key="bounces",
            title="Bounce reports",
            description="Delivery failure reports received, and the people they marked.",
            columns=("Received", "Failed recipients", "People marked"),
            rows=bounce_rows,
        ),
    ]


def act(
    hub: HubContext, tenant_id: uuid.UUID, table: str, row_id: str, action: str
) -> AdminActionResult:
    if table == "failing" and action == "clear":
        with hub.session() as s:
            cleared = failing.clear(s, tenant_id, row_id)
        if not cleared:
            return AdminActionResult(False, f"{row_id} is not a bouncing address any more.")
        return AdminActionResult(True, f"Mail goes to {row_id} again.")
    if table == "parked" and action in ("release", "delete") and row_id.isdigit():
        return (release if action == "release" else remove)(hub, tenant_id, int(row_id))
    return AdminActionResult(False, f"{table} has no action {action}.")


def _parked(hub: HubContext, tenant_id: uuid.UUID, parked_id: int) -> ParkedMessage | None:
    with hub.session() as s:
        row = s.get(ParkedMessage, parked_id)
        if row is None or row.tenant_id != tenant_id:
            return None
        s.expunge(row)
        return row


def remove(hub: HubContext, tenant_id: uuid.UUID, parked_id: int) -> AdminActionResult:
    """Delete a parked message and its stored bytes."""
    row = _parked(hub, tenant_id, parked_id)
    if row is None:
        return AdminActionResult(False, f"Parked message {parked_id} is gone already.")
    with hub.session() as s:
        s.execute(delete(ParkedMessage).where(ParkedMessage.id == parked_id))
    if row.raw_path:
        hub.blob_store.delete(row.raw_path)
    return AdminActionResult(True, f"Parked message “{row.subject or parked_id}” deleted.")


def release(hub: HubContext, tenant_id: uuid.UUID, parked_id: int) -> AdminActionResult:
    """Deliver a parked message again, as if it had just arrived; when it becomes a ticket or a
    comment the parked copy goes, else it stays parked with the new reason."""
    row = _parked(hub, tenant_id, parked_id)
    if row is None or not row.raw_path:
        return AdminActionResult(False, f"Parked message {parked_id} is gone already.")
    raw = hub.blob_store.get(row.raw_path)
    settings = settings_of(hub.config(tenant_id, NAME))
    done = deliver(
        hub, tenant_id, raw, settings=settings, source=row.source, uid=row.uid, parked_id=row.id
    )
    if done.outcome == "parked":
        return AdminActionResult(False, f"Still refused: {done.reason}")
    with hub.session() as s:
        s.execute(delete(ParkedMessage).where(ParkedMessage.id == parked_id))
    hub.blob_store.delete(row.raw_path)
    what = {
        "ticket": f"ticket #{done.ticket_id}",
        "comment": f"a comment on ticket #{done.ticket_id}",
        "duplicate": f"already on ticket #{done.ticket_id}" if done.ticket_id else "a duplicate",
    }.get(done.outcome, done.outcome.replace("_", " "))
    return AdminActionResult(True, f"Released: {what}.")
