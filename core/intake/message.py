"""What a channel hands to intake, and what it gets back: the normalised inbound message."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class InboundAttachment:
    """A file that came with a message."""

    file_name: str
    content_type: str
    data: bytes
    inline: bool = False


def read_capped(chunks: Iterable[bytes], limit: int) -> bytes:
    """The bytes of a download, refused (``ValueError``) as soon as they pass ``limit``: a
    channel's file is never held whole in memory only to be found too large."""
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > limit:
            raise ValueError("too large")
    return bytes(data)


@dataclass
class InboundMessage:
    """A channel's inbound event, normalised. Built by intake plugins, consumed by ``ingest``."""

    channel: str
    dedupe_key: str
    sender_email: str | None
    sender_name: str = ""
    subject: str = ""
    body: str = ""
    references: list[str] = field(default_factory=list)
    message_ref: str | None = None
    ref_kind: str = "message_id"
    thread_token: str | None = None
    ticket_hint: int | None = None
    category: str = "Other"
    priority: str = "Medium"
    attachments: list[InboundAttachment] = field(default_factory=list)
    # Attachments the channel did not pass on, and why ("4,950 more attachments: at most 50 are
    # kept per message"): listed with the refused ones in the agents' internal note.
    attachments_not_taken: list[str] = field(default_factory=list)
    participants: list[str] = field(default_factory=list)
    internal: bool = False
    is_automated: bool = False
    raw: bytes | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # Who vouches for the sender. None: the channel authenticated the request that named the
    # sender (a signed Slack or Teams request). True or False: the channel's verdict on this one
    # message (mail: SPF or DKIM aligned with the From domain, or a trusted relay's
    # Authentication-Results), with ``auth_summary`` saying why. See ``authenticated``.
    sender_verified: bool | None = None
    auth_summary: str = ""
    # A reply by a non-staff sender that is not verified: "accept" it flagged, or "park" it
    # (``ingest`` raises ``UnverifiedSender``, the channel keeps the message for an admin).
    unverified_policy: str = "accept"


@dataclass
class IngestResult:
    """What became of an inbound message."""

    outcome: str  # "ticket" | "comment" | "duplicate"
    ticket_id: int | None
    comment_id: int | None = None
    reason: str = ""
    user_id: int | None = None
    skipped_attachments: list[str] = field(default_factory=list)
