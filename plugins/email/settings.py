"""The per-tenant settings of the email plugin (validated by the admin API)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from core.api import EgressRefused, policy_of

SECRET_FIELDS = ("password", "relay_password")


class EmailSettings(BaseModel):
    """Everything a tenant configures for mail; ``README.md`` documents each field."""

    # Intake: the addresses the SMTP server accepts for this tenant; the first is the From of replies.
    addresses: list[str] = Field(title="Support addresses", default_factory=list)
    from_name: str = Field(title="Sender name", default="", max_length=200)
    max_message_bytes: int = Field(
        title="Largest message accepted (bytes)", default=25 * 1024 * 1024, ge=1024
    )
    # IMAP polling (optional): a mailbox the hub reads instead of (or besides) SMTP delivery.
    host: str = Field(default="", title="IMAP server")
    port: int = Field(title="IMAP port", default=993, ge=1, le=65535)
    security: Literal["tls", "starttls", "none"] = Field(
        default="tls", title="IMAP connection security"
    )
    user: str = Field(default="", title="IMAP user name")
    password: str = Field(default="", title="IMAP password")
    folder: str = Field(default="INBOX", title="IMAP folder to read")
    processed_folder: str = Field(default="", title="IMAP folder for processed mail")
    # Sender authentication (README, "Who a mail is from"): the authserv-ids of relays whose
    # Authentication-Results header is believed; over SMTP, the networks those relays connect
    # from (a header on any other connection is ignored); and what becomes of a reply whose
    # non-staff sender is not verified: "accept" it flagged, or "park" it for an admin.
    trusted_authserv_ids: list[str] = Field(
        title="Trusted Authentication-Results servers", default_factory=list
    )
    trusted_relay_networks: list[str] = Field(title="Trusted relay networks", default_factory=list)
    unverified_requester_mail: Literal["accept", "park"] = Field(
        default="accept", title="Mail from unverified senders"
    )
    # Outbound relay.
    relay_host: str = Field(default="", title="Outgoing mail server (SMTP relay)")
    relay_port: int = Field(title="Outgoing mail port", default=587, ge=1, le=65535)
    relay_tls: Literal["starttls", "tls", "none"] = Field(
        default="starttls", title="Outgoing mail security"
    )
    relay_user: str = Field(default="", title="Outgoing mail user name")
    relay_password: str = Field(default="", title="Outgoing mail password")
    # Seconds to connect and to wait for each reply of the relay: one that accepts and never
    # answers holds a worker this long per mail, then the mail is retried later.
    relay_timeout: float = Field(title="Outgoing mail timeout (seconds)", default=10.0, gt=0, le=60)
    # Loop protection: at most this many automatic mails to one address per hour.
    auto_reply_limit: int = Field(title="Automatic mails per address per hour", default=5, ge=0)
    notify_events: list[str] = Field(
        title="Mail the requester about",
        default_factory=lambda: ["created", "agent_reply", "status"],
    )
    # Status changes mailed to the requester ("Open" is left out: it only means "assigned").
    notify_statuses: list[str] = Field(
        title="Status changes mailed",
        default_factory=lambda: ["In Progress", "Pending", "Resolved", "Closed"],
    )

    @field_validator("from_name")
    @classmethod
    def _from_name(cls, value: str) -> str:
        """One line of text: a CR or LF would break (or inject into) the From header."""
        if any(c in value for c in "\r\n\x00\x85\u2028\u2029"):
            raise ValueError("from_name must be one line (no CR or LF characters)")
        return value.strip()

    @field_validator("addresses")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        """Lower-case, de-duplicated, each a plain ``local@domain`` without a ``+tag``."""
        out: list[str] = []
        for raw in value:
            addr = raw.strip().lower()
            local, at, domain = addr.partition("@")
            if not at or not local or "." not in domain or "+" in local or " " in addr:
                raise ValueError(f"not a plain support address: {raw!r}")
            if addr not in out:
                out.append(addr)
        return out

    @field_validator("trusted_authserv_ids")
    @classmethod
    def _authserv_ids(cls, value: list[str]) -> list[str]:
        """Lower-case host-like names (RFC 8601 authserv-id), de-duplicated."""
        out: list[str] = []
        for raw in value:
            name = raw.strip().lower()
            if not name or any(c.isspace() or c in ';()"' for c in name) or len(name) > 255:
                raise ValueError(f"not an authserv-id: {raw!r}")
            if name not in out:
                out.append(name)
        return out

    @field_validator("trusted_relay_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        """Each an IP address or CIDR network, normalised."""
        out: list[str] = []
        for raw in value:
            try:
                net = str(ipaddress.ip_network(raw.strip(), strict=False))
            except ValueError:
                raise ValueError(f"not an IP network: {raw!r}") from None
            if net not in out:
                out.append(net)
        return out

    @model_validator(mode="after")
    def _egress(self, info: ValidationInfo) -> EmailSettings:
        """On the admin API's save: the IMAP server and the relay must be hosts the egress
        policy allows (each connection is checked again, on its resolved address)."""
        egress = policy_of(info.context)
        for field, host, port in (
            ("host", self.host, self.port),
            ("relay_host", self.relay_host, self.relay_port),
        ):
            if egress is not None and host.strip():
                try:
                    egress.check_configured(host.strip(), port)
                except EgressRefused as exc:
                    raise ValueError(f"{field}: {exc.message}") from None
        return self


def load(values: dict[str, object]) -> EmailSettings:
    """Settings from a stored config (settings and decrypted secrets merged); bad rows fall back
    field by field to the defaults rather than stopping mail for the tenant."""
    try:
        return EmailSettings.model_validate(values)
    except ValueError:
        good = {}
        for key, value in values.items():
            if key in EmailSettings.model_fields:
                try:
                    EmailSettings.model_validate({key: value})
                    good[key] = value
                except ValueError:
                    continue
        return EmailSettings.model_validate(good)


def support_addresses(settings: Mapping[str, Any]) -> list[str]:
    """The support addresses a tenant's settings claim (already normalized on save): the
    email plugin's channel keys."""
    return [str(a).strip().lower() for a in settings.get("addresses") or []]
