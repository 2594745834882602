"""The public face of core: what plugins import. Nothing else of core is theirs to use.

It offers operations, not tables: plugins read and change core's data through the functions
here (each takes a ``Session`` from ``HubContext.session()``) and get plain values or snapshots
back. A plugin's OWN tables are its business: ``Base``, ``BigId``, ``JSONType`` and
``UTCDateTime`` are here for them."""

from __future__ import annotations

from core import lifecycle
from core.batching import Batcher
from core.clock import now
from core.crypto import Keyring
from core.db import TRANSIENT_DB_ERRORS, Base, BigId, JSONType, UTCDateTime
from core.egress import STRICT, EgressPolicy, EgressRefused, policy_of, url_host_port
from core.errors import (
    Conflict,
    Forbidden,
    HubError,
    Invalid,
    NotFound,
    ScanUnavailable,
    TooLarge,
    Unauthenticated,
    Unavailable,
)
from core.hookspecs import hookimpl, hookspec
from core.i18n import negotiate as negotiate_locale
from core.intake import (
    SUBJECT_TOKEN,
    InboundAttachment,
    InboundMessage,
    IngestResult,
    find_duplicate,
    read_capped,
)
from core.intake.threading import referenced_ticket
from core.kb.articles import public_article
from core.kb.deflections import record_deflection
from core.kb.suggestions import merge_suggestions
from core.lifecycle import CATEGORIES, PRIORITIES, STATUSES
from core.mail_relay import Relay, check_relay, send_via_relay
from core.mail_templates.render import RenderedMail, one_line
from core.mail_templates.service import person_values, render_mail
from core.notifications.resolver import thread_addresses
from core.permissions import ADMIN, AGENT, END_USER, MANAGER, Actor, require_admin, system_actor
from core.privacy.person import drop_refs as drop_person_refs
from core.privacy.person import erase_plugin_data, plugin_records
from core.privacy.person import forget_links as forget_person_links
from core.privacy.person import links_of as person_links
from core.privacy.person import move_links as move_person_links
from core.privacy.person import refs_of as person_refs
from core.scan import ScanVerdict
from core.security_headers import security_headers
from core.services import events
from core.services.attachments import read_attachment
from core.services.bot_notes import add_bot_note, add_system_note, audit_escalation_failure
from core.services.channel_keys import owner as channel_key_owner
from core.services.channel_keys import owners as channel_key_owners
from core.services.channel_keys import pending as pending_channel_keys
from core.services.channel_keys import verify_from_mail as verify_channel_key_from_mail
from core.services.comments import add_comment
from core.services.identity import authenticate_token, ensure_user, staff_actor
from core.services.people import (
    email_of,
    failing_addresses,
    mark_failing,
    member_actor,
    requester_email,
)
from core.services.plugins import PluginConfig
from core.services.plugins import on_change as on_plugin_change
from core.services.refs import (
    Ref,
    add_ticket_ref,
    find_ref,
    latest_ticket_by_prefix,
    merge_ref_meta,
    ticket_by_ref,
    ticket_refs,
)
from core.services.seen import key_of_comment, opening_raw, record_seen, seen
from core.services.snapshots import ticket_exists, ticket_snapshot
from core.services.tenants import TenantRef, find_tenant, tenant_id_named
from core.services.tickets import Changes, get_ticket, update_ticket
from core.storage import BlobStore
from core.types import (
    PROOF_MAIL,
    PROOF_SIGNED,
    AdminActionResult,
    AdminRow,
    AdminTable,
    BackgroundService,
    Capability,
    ChannelKeys,
    CommentSnapshot,
    ConnectionCheck,
    Endpoint,
    Escalation,
    EscalationResult,
    EscalationTarget,
    HubContext,
    OutboundMail,
    PeriodicTask,
    Person,
    PersonNotice,
    PersonRecord,
    PluginInfo,
    Suggestion,
    TicketEvent,
    TicketSnapshot,
)
from core.webhooks import (
    SignedWebhook,
    WebhookOutcome,
    WebhookRefused,
    check_declared_length,
    receive_signed,
)

__all__ = [
    # The locale an Accept-Language header (or one language tag) asks for, of the hub's.
    "negotiate_locale",
    # The plugin marker, the hub's context and the types that cross the boundary.
    "hookimpl",
    "hookspec",
    "HubContext",
    "Endpoint",
    "PluginInfo",
    "Capability",
    "PluginConfig",
    "BackgroundService",
    "PeriodicTask",
    "ChannelKeys",
    "PROOF_MAIL",
    "PROOF_SIGNED",
    # Errors (a channel retries on Unavailable and TRANSIENT_DB_ERRORS, never discards).
    "HubError",
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "TooLarge",
    "Unauthenticated",
    "Unavailable",
    "ScanUnavailable",
    "ScanVerdict",
    "read_attachment",
    "TRANSIENT_DB_ERRORS",
    # Tickets, their lifecycle and who acts.
    "lifecycle",
    "CATEGORIES",
    "PRIORITIES",
    "STATUSES",
    "Actor",
    "ADMIN",
    "AGENT",
    "END_USER",
    "MANAGER",
    "system_actor",
    "staff_actor",
    "member_actor",
    "Changes",
    "get_ticket",
    "update_ticket",
    "add_comment",
    "ensure_user",
    "events",
    "now",
    # Snapshots: tickets, comments and people as a channel's card or a notification shows them.
    "TicketSnapshot",
    "CommentSnapshot",
    "TicketEvent",
    "Person",
    "PersonRecord",
    "BlobStore",
    "ticket_snapshot",
    "ticket_exists",
    "requester_email",
    "email_of",
    "failing_addresses",
    "mark_failing",
    # Notifications: who the threaded mail of an event goes to (the matrix decides).
    "thread_addresses",
    # Inbound messages: normalise, dedupe, thread (``HubContext.ingest`` stores them).
    "InboundMessage",
    "InboundAttachment",
    "IngestResult",
    "SUBJECT_TOKEN",
    "find_duplicate",
    "read_capped",
    "referenced_ticket",
    "Batcher",
    # Seen-once for deliveries; a ticket's refs elsewhere (Slack threads, Jira issues, PD keys).
    "seen",
    "record_seen",
    "key_of_comment",
    "opening_raw",
    "Ref",
    "add_ticket_ref",
    "find_ref",
    "latest_ticket_by_prefix",
    "merge_ref_meta",
    "ticket_by_ref",
    "ticket_refs",
    # Tenants and inbound keys: which tenant a request or an address belongs to.
    "TenantRef",
    "find_tenant",
    "tenant_id_named",
    "channel_key_owner",
    "channel_key_owners",
    "pending_channel_keys",
    "verify_channel_key_from_mail",
    "on_plugin_change",
    "authenticate_token",
    "require_admin",
    # Signed webhooks: body cap, tenant hint, whose secret signs the body, the replay window.
    "SignedWebhook",
    "WebhookOutcome",
    "WebhookRefused",
    "check_declared_length",
    "receive_signed",
    # Notes by integrations and the system, and escalation failures.
    "add_bot_note",
    "add_system_note",
    "audit_escalation_failure",
    "Escalation",
    "EscalationResult",
    "EscalationTarget",
    # The knowledge base (suggestions, deflections).
    "Suggestion",
    "merge_suggestions",
    "public_article",
    "record_deflection",
    # Outbound: the egress policy (every tenant-configured connection), relays, page headers.
    "OutboundMail",
    "RenderedMail",
    "render_mail",
    "person_values",
    "one_line",
    "PersonNotice",
    "EgressPolicy",
    "EgressRefused",
    "STRICT",
    "policy_of",
    "url_host_port",
    "Relay",
    "send_via_relay",
    "check_relay",
    "ConnectionCheck",
    "AdminTable",
    "AdminRow",
    "AdminActionResult",
    "security_headers",
    # A plugin's own tables.
    "Base",
    "BigId",
    "JSONType",
    "UTCDateTime",
    "Keyring",
    # Person data (GDPR): a plugin's user links and the refs on a person's tickets.
    "person_links",
    "forget_person_links",
    "person_refs",
    "drop_person_refs",
    "plugin_records",
    "erase_plugin_data",
    "move_person_links",
]
