"""Whether a reply may act as its sender: a From header proves nothing (DESIGN.md, "Trust
boundaries"), so the channel's verdict on the message decides, and for staff their own signed
reply address besides."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy.orm import Session

from core.errors import Forbidden
from core.intake.message import InboundMessage
from core.intake.threading import TokenVerifier, tenant_ticket
from core.models import Ticket, User
from core.permissions import ADMIN, AGENT

# (tenant, reply token, address): whether the token was signed for that recipient address.
RecipientVerifier = Callable[[uuid.UUID, str, str], bool]


class UnverifiedSender(Forbidden):
    """A reply whose sender could not be authenticated, refused by the tenant's policy."""

    code = "unverified_sender"


def authenticated(
    session: Session,
    tenant_id: uuid.UUID,
    msg: InboundMessage,
    user: User,
    role: str,
    ticket: Ticket,
    *,
    verify_token: TokenVerifier | None,
    verify_recipient: RecipientVerifier | None,
) -> tuple[bool, str]:
    """Whether a reply onto ``ticket`` may act as its sender, and why (for the audit).

    Where the channel judges each message (``sender_verified`` not None), the sender must be
    verified by it; staff must in addition have written to the reply address signed for them,
    naming this ticket, so that a forged mail from a domain that passes DMARC for someone else
    still cannot speak for them.
    """
    if msg.sender_verified is None:
        return True, f"authenticated by the {msg.channel} channel"
    if not msg.sender_verified:
        return False, f"unverified sender: {msg.auth_summary or 'not authenticated'}"[:500]
    if role not in (AGENT, ADMIN):
        return True, f"verified: {msg.auth_summary}"[:500]
    token = msg.thread_token
    if not token or verify_token is None or verify_recipient is None:
        return False, "unverified sender: staff mail not sent to their signed reply address"
    if not verify_recipient(tenant_id, token, user.email):
        return False, "unverified sender: the reply address was not signed for this sender"
    named = tenant_ticket(session, tenant_id, verify_token(tenant_id, token))
    if named is None or named.id != ticket.id:
        return False, "unverified sender: the reply address names another ticket"
    return True, f"verified: {msg.auth_summary}; signed reply address"[:500]
