"""Plain types that cross the plugin boundary: event snapshots, plugin metadata, the hub context."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy.orm import Session

from core.crypto import Keyring
from core.egress import EgressPolicy
from core.intake import InboundMessage, IngestResult
from core.services.attachments import AttachmentPolicy
from core.services.plugins import PluginConfig
from core.storage import BlobStore


class Capability(enum.StrEnum):
    """What a plugin does, shown on the admin page."""

    INTAKE = "intake"
    NOTIFY = "notify"
    ESCALATE = "escalate"
    SUGGEST = "suggest"


@dataclass(frozen=True)
class PluginInfo:
    """A plugin's self-description: its name (the entry point's), settings and capabilities.

    ``settings_model`` is a pydantic model class; fields named in ``secret_fields`` are stored
    encrypted and never returned.
    """

    name: str
    title: str
    description: str = ""
    capabilities: tuple[Capability, ...] = ()
    settings_model: type[BaseModel] | None = None
    secret_fields: tuple[str, ...] = ()
    # The inbound keys this plugin routes by, read from a tenant's settings, and how a
    # claim of one is proved (see ``ChannelKeys``). None: the plugin routes by no key.
    channel_keys: ChannelKeys | None = None
    # The addresses an admin gives the vendor (webhook URLs, the SMTP intake), shown on the
    # plugin's admin page.
    endpoints: tuple[Endpoint, ...] = ()


@dataclass(frozen=True)
class Endpoint:
    """An address of the hub a vendor must be given: ``path`` under the hub's public URL (for
    a webhook), or ``smtp=True`` for the hub's SMTP intake (host and port)."""

    label: str
    path: str = ""
    help: str = ""
    smtp: bool = False


PROOF_SIGNED = "signed"
PROOF_MAIL = "mail"


@dataclass(frozen=True)
class ChannelKeys:
    """How a plugin's inbound keys are claimed (one mechanism for every channel).

    ``of`` returns the normalized keys a tenant's settings name (support addresses, a team id).
    ``proof`` says what makes a claim hold:

    - ``"signed"``: the claim holds on save. The channel's requests are authenticated with a
      per-tenant secret, so owning the key without the secret gains nothing; the unique index
      still refuses a key another tenant holds.
    - ``"mail"``: the key is a mail address; the claim stays pending until a verification mail
      that the hub sends to it comes back through intake.
    """

    of: Callable[[Mapping[str, Any]], list[str]]
    proof: str = PROOF_SIGNED
    label: str = "key"

    @classmethod
    def setting(cls, name: str, *, label: str, proof: str = PROOF_SIGNED) -> ChannelKeys:
        """Keys named by one plain setting holding a single value (a team id, an app id)."""

        def of(settings: Mapping[str, Any]) -> list[str]:
            value = str(settings.get(name) or "").strip()
            return [value] if value else []

        return cls(of=of, proof=proof, label=label)


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    name: str
    role: str | None = None


@dataclass(frozen=True)
class TicketSnapshot:
    """The ticket as it was when the event was delivered."""

    id: int
    tenant_id: uuid.UUID
    subject: str
    description: str
    category: str
    priority: str
    status: str
    channel: str
    created_at: datetime
    updated_at: datetime
    sla_due_at: datetime | None
    sla_breached: bool
    requester: Person
    assignee: Person | None
    url: str
    refs: dict[str, list[str]] = field(default_factory=dict)
    group_id: int | None = None  # the agent group that owns the ticket (core.groups)


@dataclass(frozen=True)
class CommentSnapshot:
    id: int
    author: Person
    body: str
    is_internal: bool
    channel: str
    created_at: datetime


@dataclass(frozen=True)
class TicketEvent:
    """An outbox event as the notification hook receives it.

    ``id`` is the outbox row id: stable across retries, so receivers use it for idempotency.
    """

    id: int
    type: str
    tenant_id: uuid.UUID
    ticket: TicketSnapshot | None
    comment: CommentSnapshot | None
    actor_id: int | None
    payload: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class Escalation:
    """A request to escalate: an SLA breach (``reason="sla_breach"``) or an agent's action."""

    event_id: int
    tenant_id: uuid.UUID
    ticket: TicketSnapshot
    reason: str
    target: str | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EscalationResult:
    plugin: str
    reference: str | None = None
    url: str | None = None
    message: str = ""


@dataclass(frozen=True)
class EscalationTarget:
    """An escalation action a plugin offers agents (shown as a button)."""

    plugin: str
    target: str
    label: str


@dataclass(frozen=True)
class Suggestion:
    """A knowledge-base article ranked for a text."""

    article_id: int
    title: str
    excerpt: str
    url: str
    score: float
    source: str = "kb"


@dataclass(frozen=True)
class PeriodicTask:
    """Work that beat runs every ``seconds``; ``run(hub)`` must be idempotent.

    ``kind`` picks the worker queue: ``"automation"`` (sweeps, time rules) or ``"intake"``
    (polling a channel for inbound messages), so each kind runs apart from the other and from
    delivery, under its own time limits."""

    name: str
    seconds: float
    run: Callable[[HubContext], None]
    kind: str = "automation"


@dataclass(frozen=True)
class BackgroundService:
    """A long-running server a plugin brings (the SMTP listener); ``hub run`` starts it."""

    name: str
    start: Callable[[], None]
    stop: Callable[[], None]
    describe: str = ""


@dataclass(frozen=True)
class OutboundMail:
    """A mail the hub sends a person in a tenant's name (an invitation, a password reset, a
    sign-in link): ``hub_send_mail`` carries it through the tenant's own mail channel."""

    tenant_id: uuid.UUID
    to: str
    subject: str
    text: str
    html: str | None = None


@dataclass(frozen=True)
class PersonNotice:
    """One person told about one ticket event through one channel (``hub_notify_person``).

    ``kind`` is the matrix's kind (``core.notifications.matrix``), ``subject`` and ``text`` the
    wording (``core.notifications.mail.compose``), ``event_id`` the outbox row: stable across
    retries, so a receiver stays idempotent on (``event_id``, ``person.id``)."""

    event_id: int
    tenant_id: uuid.UUID
    kind: str
    channel: str
    person: Person
    ticket: TicketSnapshot | None
    subject: str
    text: str
    url: str


@dataclass(frozen=True)
class PersonRecord:
    """One thing a plugin holds about a person, for a data export (``hub_person_data``).

    ``kind`` names the record type within the plugin ("chat_session", "sent_mail"), ``id`` its
    key in the plugin's table, ``data`` the fields as plain JSON values, ``files`` bytes the
    export adds to its archive by name (a raw parked message: ``{"parked-7.eml": b"..."}``).
    """

    plugin: str
    kind: str
    id: str
    created_at: datetime | None
    data: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


class HubContext(Protocol):
    """What the hub offers plugins at run time. Implemented in ``hub``, typed here.

    The attributes are read-only properties: plugins read them, and an implementation may hold
    a narrower type (``hub.context.Hub`` keeps a ``FileBlobStore``); ``hub.context`` asserts for
    mypy that ``Hub`` satisfies this protocol."""

    @property
    def base_url(self) -> str: ...

    @property
    def data_dir(self) -> Path: ...

    @property
    def keyring(self) -> Keyring: ...

    @property
    def blob_store(self) -> BlobStore: ...

    @property
    def attachment_policy(self) -> AttachmentPolicy: ...

    @property
    def egress(self) -> EgressPolicy:
        """Every outbound connection a tenant can configure goes through it."""
        ...

    def session(self) -> AbstractContextManager[Session]:
        """A session that commits when the block ends without error, else rolls back."""
        ...

    def config(self, tenant_id: uuid.UUID, plugin: str) -> PluginConfig:
        """The plugin's configuration for one tenant, secrets decrypted."""
        ...

    def enabled_configs(self, plugin: str) -> list[PluginConfig]:
        """Every tenant that has the plugin on."""
        ...

    def save_state(self, tenant_id: uuid.UUID, plugin: str, state: dict[str, Any]) -> None:
        """Merge plugin state (cursors, ids) into the tenant's plugin row."""
        ...

    def set_enabled(self, tenant_id: uuid.UUID, plugin: str, enabled: bool, *, reason: str) -> None:
        """Turn a plugin on or off for a tenant as the system (e.g. Slack app uninstalled)."""
        ...

    def hooks(self, tenant_id: uuid.UUID) -> Any:
        """The hook relay limited to the plugins this tenant has enabled."""
        ...

    def resolve_tenant(self, channel: str, key: str) -> uuid.UUID | None:
        """Which tenant owns an inbound address or workspace (``hub_resolve_tenant``)."""
        ...

    def ingest(self, tenant_id: uuid.UUID, message: InboundMessage) -> IngestResult:
        """Dedupe, thread and store one inbound message; returns after the commit."""
        ...

    def ingest_many(
        self, items: list[tuple[uuid.UUID, InboundMessage]]
    ) -> list[IngestResult | Exception]:
        """``ingest`` for several messages with one commit (group commit): per message its
        result or the exception it raised alone; every result is committed on return."""
        ...

    def ticket_url(self, tenant_id: uuid.UUID, ticket_id: int) -> str:
        """The web link of a ticket."""
        ...

    def kick(self) -> None:
        """Ask for outbox delivery soon (after a commit that wrote events)."""
        ...

    def requester_link(self, tenant_id: uuid.UUID, ticket_id: int, email: str) -> str | None:
        """An absolute link that signs this requester in (as an end user, no password) and
        opens the ticket: signed, for this person only, expiring (30 days by default), refused
        once they are deactivated or the link is revoked. None when the address is not an
        active end user of the tenant (staff sign in with their password)."""
        ...

    def rating_links(
        self, tenant_id: uuid.UUID, ticket_id: int, email: str
    ) -> list[dict[str, str]]:
        """One-click rating links (``label``, ``url``) of a resolved ticket for its requester,
        signed for that ticket, person and score, expiring; empty for anyone else or once the
        ticket is rated."""
        ...

    def ticket_token(
        self, tenant_id: uuid.UUID, ticket_id: int, recipient: str | None = None
    ) -> str:
        """A signed token naming a ticket (for reply addresses); ``ingest`` verifies it. With
        ``recipient``, also signed for that address: staff mail acts as staff only when it
        came to the address signed for them."""
        ...

    def listen_address(self, service: str) -> tuple[str, int]:
        """Where a plugin's server listens, from the hub's settings (``"smtp"``)."""
        ...

    def listen_shared(self, service: str) -> bool:
        """Whether several processes serve that port together (``SO_REUSEPORT``): the server
        must then open its socket with that option, and the kernel spreads connections."""
        ...


@dataclass(frozen=True)
class ConnectionCheck:
    """What a vendor answered to an integration's cheap check (``hub_check_connection``), in
    words an admin can act on: never a secret."""

    ok: bool
    message: str


@dataclass(frozen=True)
class AdminRow:
    """One row of a plugin's admin table: the plugin's own key for it, the cells in the
    table's column order, an optional detail shown folded under it (plain text: a parked mail's
    headers), and the names of the table's actions this row offers."""

    id: str
    cells: tuple[str, ...]
    detail: str = ""
    actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class AdminTable:
    """Data a plugin keeps for a tenant that an admin reviews and acts on (parked mail,
    failing addresses), rendered by the console as an accessible table (``hub_admin_tables``).
    ``actions`` maps an action's name to its button label; the names in ``confirm`` ask the
    admin to confirm first (a deletion)."""

    plugin: str
    key: str
    title: str
    description: str
    columns: tuple[str, ...]
    rows: tuple[AdminRow, ...]
    actions: dict[str, str] = field(default_factory=dict)
    confirm: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AdminActionResult:
    """What an admin table's action did (``hub_admin_action``), in words; ``ok`` False when it
    was refused or failed (nothing changed)."""

    ok: bool
    message: str
