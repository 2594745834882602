"""Every table of the ticket engine. Import from here, not from the submodules."""

from core.models.identity import ApiToken, Membership, Tenant, User
from core.models.messaging import ExternalRef, InboundKey, Notification, OutboxEvent
from core.models.plugin import TenantPlugin
from core.models.sla import SlaPolicy
from core.models.ticket import Attachment, Audit, Comment, SlaLog, Ticket

__all__ = [
    "ApiToken",
    "Attachment",
    "Audit",
    "Comment",
    "ExternalRef",
    "InboundKey",
    "Membership",
    "Notification",
    "OutboxEvent",
    "SlaLog",
    "SlaPolicy",
    "Tenant",
    "TenantPlugin",
    "Ticket",
    "User",
]
