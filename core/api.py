"""The public face of core: what plugins import. Nothing else of core is theirs to use.

It offers operations, not tables: plugins read and change core's data through the functions
here (each takes a ``Session`` from ``HubContext.session()``) and get plain values or snapshots
back. A plugin's OWN tables are its business: ``Base``, ``BigId``, ``JSONType`` and
``UTCDateTime`` are here for them."""

from __future__ import annotations

from core import lifecycle
from core.clock import now
from core.crypto import Keyring
from core.db import TRANSIENT_DB_ERRORS, Base, BigId, JSONType, UTCDateTime
from core.errors import Conflict, Forbidden, HubError, Invalid, NotFound, TooLarge
from core.hookspecs import hookimpl, hookspec
from core.intake import (
    SUBJECT_TOKEN,
    InboundAttachment,
    InboundMessage,
    IngestResult,
    find_duplicate,
    read_capped,
)
from core.lifecycle import CATEGORIES, PRIORITIES, STATUSES
from core.permissions import ADMIN, AGENT, END_USER, MANAGER, Actor, system_actor
from core.services import events
from core.services.comments import add_comment
from core.services.identity import ensure_user, staff_actor
from core.services.plugins import PluginConfig
from core.services.tickets import Changes, get_ticket, update_ticket
from core.types import (
    BackgroundService,
    Capability,
    CommentSnapshot,
    Escalation,
    EscalationResult,
    EscalationTarget,
    HubContext,
    PeriodicTask,
    Person,
    PersonRecord,
    PluginInfo,
    Suggestion,
    TicketEvent,
    TicketSnapshot,
)

__all__ = [
    "read_capped",
    "ADMIN",
    "AGENT",
    "CATEGORIES",
    "END_USER",
    "MANAGER",
    "PRIORITIES",
    "STATUSES",
    "SUBJECT_TOKEN",
    "Actor",
    "BackgroundService",
    "Base",
    "BigId",
    "Capability",
    "Changes",
    "CommentSnapshot",
    "Conflict",
    "Escalation",
    "EscalationResult",
    "EscalationTarget",
    "Forbidden",
    "HubContext",
    "HubError",
    "InboundAttachment",
    "InboundMessage",
    "IngestResult",
    "Invalid",
    "JSONType",
    "Keyring",
    "NotFound",
    "PeriodicTask",
    "Person",
    "PersonRecord",
    "PluginConfig",
    "PluginInfo",
    "Suggestion",
    "TicketEvent",
    "TicketSnapshot",
    "TooLarge",
    "TRANSIENT_DB_ERRORS",
    "UTCDateTime",
    "add_comment",
    "ensure_user",
    "staff_actor",
    "events",
    "find_duplicate",
    "get_ticket",
    "hookimpl",
    "hookspec",
    "lifecycle",
    "now",
    "system_actor",
    "update_ticket",
]

# For plugin routes that authenticate a bearer token themselves (email: parked messages).
from core.errors import Unauthenticated
from core.permissions import require_admin
from core.services.identity import authenticate_token

__all__ += ["Unauthenticated", "authenticate_token", "require_admin"]

# Knowledge base, for plugins that show suggestions or count deflections (chatbot).
from core.kb.articles import public_article  # noqa: E402
from core.kb.deflections import record_deflection  # noqa: E402
from core.kb.suggestions import merge_suggestions  # noqa: E402

__all__ += ["merge_suggestions", "public_article", "record_deflection"]

# Notes and failure audits that integrations write as their bot user (Jira, PagerDuty, ...).
from core.services.bot_notes import add_bot_note, audit_escalation_failure  # noqa: E402

__all__ += ["add_bot_note", "audit_escalation_failure"]

# The security headers of HTML pages (the console's and a plugin's, such as the chat).
from core.security_headers import security_headers  # noqa: E402

__all__ += ["security_headers"]

# A service a message needs is down (the malware scanner): a channel retries, never discards.
from core.errors import Unavailable  # noqa: E402

__all__ += ["Unavailable"]

from core.batching import Batcher  # noqa: E402

__all__ += ["Batcher"]

# Inbound channel keys (support addresses, Slack team ids, Teams app ids): who owns which.
from core.services.channel_keys import owner as channel_key_owner  # noqa: E402
from core.services.channel_keys import owners as channel_key_owners  # noqa: E402
from core.services.channel_keys import pending as pending_channel_keys  # noqa: E402
from core.services.channel_keys import verify_from_mail as verify_channel_key_from_mail  # noqa: E402
from core.types import PROOF_MAIL, PROOF_SIGNED, ChannelKeys  # noqa: E402

__all__ += [
    "PROOF_MAIL",
    "PROOF_SIGNED",
    "ChannelKeys",
    "channel_key_owner",
    "channel_key_owners",
    "pending_channel_keys",
    "verify_channel_key_from_mail",
]

# The egress policy: every outbound connection a tenant can configure is checked and pinned.
from core.egress import STRICT, EgressPolicy, EgressRefused, policy_of, url_host_port  # noqa: E402

__all__ += ["STRICT", "EgressPolicy", "EgressRefused", "policy_of", "url_host_port"]

from core.mail_relay import Relay, send_via_relay  # noqa: E402

__all__ += ["Relay", "send_via_relay"]

# The ticket a message's references thread it onto (intake's ``references`` rule), for a channel
# that handles some messages itself (mail: auto-replies become notes).
from core.intake.threading import referenced_ticket  # noqa: E402

__all__ += ["referenced_ticket"]
# Seen-once for inbound deliveries (webhook ids, signed bodies' hashes, comments we posted).
from core.services.seen import key_of_comment, opening_raw, record_seen, seen  # noqa: E402

__all__ += ["key_of_comment", "opening_raw", "record_seen", "seen"]

# A ticket's external refs (Slack threads, Jira issues, PagerDuty keys) and delivery markers.
from core.services.refs import (  # noqa: E402
    Ref,
    add_ticket_ref,
    find_ref,
    latest_ticket_by_prefix,
    merge_ref_meta,
    ticket_by_ref,
    ticket_refs,
)

__all__ += [
    "Ref",
    "add_ticket_ref",
    "find_ref",
    "latest_ticket_by_prefix",
    "merge_ref_meta",
    "ticket_by_ref",
    "ticket_refs",
]

# Tickets as a channel's card shows them, and the people behind them.
from core.services.people import (  # noqa: E402
    email_of,
    failing_addresses,
    mark_failing,
    member_actor,
    requester_email,
)
from core.services.snapshots import ticket_exists, ticket_snapshot  # noqa: E402

__all__ += [
    "email_of",
    "failing_addresses",
    "mark_failing",
    "member_actor",
    "requester_email",
    "ticket_exists",
    "ticket_snapshot",
]

# Which tenant a request names (``?tenant=<slug or id>``), and the one receiver of signed
# webhooks: body cap, tenant hint, whose secret signs the body, the replay window.
from core.services.tenants import TenantRef, find_tenant  # noqa: E402
from core.webhooks import (  # noqa: E402
    SignedWebhook,
    WebhookRefused,
    check_declared_length,
    receive_signed,
)

__all__ += [
    "SignedWebhook",
    "TenantRef",
    "WebhookRefused",
    "check_declared_length",
    "find_tenant",
    "receive_signed",
]

# Internal notes by the system, and caches of what plugin rows say (dropped when one changes).
from core.services.bot_notes import add_system_note  # noqa: E402
from core.services.plugins import on_change as on_plugin_change  # noqa: E402

__all__ += ["add_system_note", "on_plugin_change"]
