"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives: the relay a test
points the hub at (a tenant's relay, or the operator's system relay)."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.services import free_port

LINK = re.compile(r"https?://\S+/(invite|password-reset|signin)/([A-Za-z0-9_-]+)")


@dataclass
class Sink:
    """A local SMTP relay that keeps what it receives, parsed back."""

    host: str
    port: int
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    fail: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fail:
            return "451 4.3.0 relay down for the test"
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(raw, policy=policy.default)  # type: ignore[misc]
            for _, _, raw in self.received
        ]

    def texts(self) -> list[str]:
        """The plain-text body of each message received."""
        out = []
        for msg in self.messages():
            part = msg.get_body(preferencelist=("plain",))
            out.append(part.get_content() if part is not None else "")
        return out

    def links(self, kind: str) -> list[str]:
        """The path (``/invite/<token>`` ...) of each link of this kind in the mails, in order."""
        return [
            f"/{m.group(1)}/{m.group(2)}"
            for t in self.texts()
            for m in LINK.finditer(t)
            if m.group(1) == kind
        ]


@contextmanager
def run_sink() -> Iterator[Sink]:
    """A sink on a free port for the duration of the block."""
    port = free_port()
    box = Sink("127.0.0.1", port)
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@contextmanager
def system_relay(settings: Any) -> Iterator[Sink]:
    """A sink as the hub's system relay (``HUB_SYSTEM_RELAY_*``), restored afterwards."""
    saved = (settings.system_relay_host, settings.system_relay_port, settings.system_relay_tls)
    with run_sink() as box:
        settings.system_relay_host, settings.system_relay_port = box.host, box.port
        settings.system_relay_tls = "none"
        try:
            yield box
        finally:
            (
                settings.system_relay_host,
                settings.system_relay_port,
                settings.system_relay_tls,
            ) = saved
