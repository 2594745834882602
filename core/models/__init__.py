"""Every table of the ticket engine. Import from here, not from the submodules."""

from core.automation.models import AutomationRule, AutomationRun, AutomationSettings, Macro
from core.duplicates.models import DuplicateFlag, DuplicateSettings
from core.fields.models import CustomField, TicketFieldValue
from core.groups.models import AgentGroup, AgentGroupMember
from core.i18n.models import PersonLocale
from core.kb.models import KbArticle, KbDeflection, KbFeedback, KbRevision
from core.mail_templates.models import MailSignature, MailTemplate
from core.models.access import RecoveryCode, TenantSecurity, TwoFactor
from core.models.audit import AuditChainHead, TenantAudit
from core.models.channel import ChannelKey
from core.models.draft import ReplyDraft
from core.models.identity import ApiToken, AuthSession, Membership, Tenant, User
from core.models.links import AuthLink
from core.models.messaging import ExternalRef, InboundKey, Notification, OutboxEvent
from core.models.notifications import (
    NotificationDelivery,
    NotificationPreference,
    NotificationSettings,
)
from core.models.plugin import TenantPlugin
from core.models.scan import TenantScanSettings
from core.models.ticket import Attachment, Audit, Comment, SlaLog, Ticket
from core.organisations.models import Organisation, OrganisationDomain, OrganisationPerson
from core.privacy.models import LegalHold, PersonExport, RetentionRun
from core.reports.models import (
    ReportAgentBin,
    ReportAgentDay,
    ReportCreatedDay,
    ReportDaily,
    ReportDurationBin,
    ReportFact,
    ReportMove,
    ReportRatingDay,
    ReportSlaDay,
    SavedReport,
)
from core.sla.models import SlaPolicy, SlaState
from core.tags.models import Tag, TicketTag

__all__ = [
    "AgentGroup",
    "AgentGroupMember",
    "ApiToken",
    "AuthLink",
    "AuthSession",
    "AutomationRule",
    "AutomationRun",
    "AutomationSettings",
    "Attachment",
    "Audit",
    "AuditChainHead",
    "ChannelKey",
    "DuplicateFlag",
    "DuplicateSettings",
    "Comment",
    "CustomField",
    "ExternalRef",
    "InboundKey",
    "KbArticle",
    "KbDeflection",
    "KbFeedback",
    "KbRevision",
    "LegalHold",
    "MailSignature",
    "MailTemplate",
    "Macro",
    "Membership",
    "Notification",
    "NotificationDelivery",
    "NotificationPreference",
    "NotificationSettings",
    "Organisation",
    "OrganisationDomain",
    "OrganisationPerson",
    "OutboxEvent",
    "PersonLocale",
    "PersonExport",
    "RecoveryCode",
    "ReplyDraft",
    "ReportAgentBin",
    "ReportAgentDay",
    "ReportCreatedDay",
    "ReportDaily",
    "ReportDurationBin",
    "ReportFact",
    "ReportMove",
    "ReportRatingDay",
    "ReportSlaDay",
    "RetentionRun",
    "SavedReport",
    "SlaLog",
    "SlaPolicy",
    "SlaState",
    "Tag",
    "Tenant",
    "TenantAudit",
    "TenantPlugin",
    "TenantScanSettings",
    "TenantSecurity",
    "Ticket",
    "TicketFieldValue",
    "TicketTag",
    "TwoFactor",
    "User",
]
