"""Every table of the ticket engine. Import from here, not from the submodules."""

from core.models.automation import AutomationRule, AutomationRun, AutomationSettings, Macro
from core.models.channel import ChannelKey
from core.models.identity import ApiToken, AuthSession, Membership, Tenant, User
from core.models.kb import KbArticle, KbDeflection, KbRevision
from core.models.messaging import ExternalRef, InboundKey, Notification, OutboxEvent
from core.models.plugin import TenantPlugin
from core.models.sla import SlaPolicy, SlaState
from core.models.ticket import Attachment, Audit, Comment, SlaLog, Ticket

__all__ = [
    "ApiToken",
    "AuthSession",
    "AutomationRule",
    "AutomationRun",
    "AutomationSettings",
    "Attachment",
    "Audit",
    "ChannelKey",
    "Comment",
    "ExternalRef",
    "InboundKey",
    "KbArticle",
    "KbDeflection",
    "KbRevision",
    "Macro",
    "Membership",
    "Notification",
    "OutboxEvent",
    "SlaLog",
    "SlaPolicy",
    "SlaState",
    "Tenant",
    "TenantPlugin",
    "Ticket",
    "User",
]
