"""The SMTP intake server (aiosmtpd): 250 only after the commit, 451 when the database fails.

RCPT is accepted only for an address whose verified claim a tenant with the plugin enabled holds
(``local+tag@domain`` counts as ``local@domain``: the tag is a reply token); others get 550. An
address claimed but not yet verified takes only the verification mail sent to it (its secret
verifies the claim; anything else gets 550 at DATA). The
addresses come from an in-memory address book (``delivery.AddressBook``), so RCPT costs no
database round trip. DATA over the tenant's ``max_message_bytes`` gets 552.

Group commit: DATA hands the message to a storing thread and waits. That thread takes every
message waiting (up to ``batch_max``), parses them and stores them in ONE transaction, commits
once, and only then are the sessions answered 250. When a batch fails it is rolled back and each
message is stored alone: one bad message is parked and the others land; a database that is down
gets 451 for all of them (the senders retry; nothing is lost).
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from core.api import BackgroundService, Batcher, HubContext
from plugins.email.authenticate import SmtpPeer, verify
from plugins.email.delivery import (
    Delivery,
    Received,
    address_book,
    deliver_many,
    verify_address,
)
from plugins.email.settings import EmailSettings

log = logging.getLogger(__name__)
# The server-wide cap (SIZE in EHLO); each tenant's own limit is checked after DATA.
SERVER_MAX_BYTES = 50 * 1024 * 1024
TEMPFAIL = "451 4.3.0 Temporary failure, please try again later"
BATCH_MAX = 32
# Messages over this size are stored one at a time on threads of their own (see handle_DATA).
LARGE_MESSAGE_BYTES = 1024 * 1024
LARGE_LANE_THREADS = 2


class IntakeHandler:
    """aiosmtpd handler: resolves recipients at RCPT time, stores the message at DATA time."""

    def __dir__(self) -> list[str]:
        # What aiosmtpd looks up on its handler for every connection (see ``IntakeSMTP``).
        return list(_names(type(self), ("handle_", "auth_")))

    def __init__(
        self,
        hub: HubContext,
        workers: int = 8,
        *,
        store_threads: int = 1,
        batch_max: int = BATCH_MAX,
    ) -> None:
        self.hub = hub
        self.book = address_book(hub)
        # For RCPT look-ups when the address book must be read again (a query).
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smtp-db")
        # Group commit (core.batching): as many messages per transaction as are waiting.
        self.batcher: Batcher[Received, Delivery | Exception] = Batcher(
            self._store, max_batch=batch_max, threads=store_threads, name="smtp-store"
        )
        self.large: Batcher[Received, Delivery | Exception] = Batcher(
            self._store, max_batch=1, threads=LARGE_LANE_THREADS, name="smtp-store-large"
        )

    def _store(self, items: list[Received]) -> list[Delivery | Exception]:
        """One batch; never raises: a message that could not be stored comes back as its
        exception (``deliver_many`` already retries a failed batch message by message)."""
        try:
            return deliver_many(self.hub, items)
        except Exception as exc:
            log.exception("smtp: storing a batch of %d failed", len(items))
            return [exc] * len(items)

    def _resolve(self, address: str) -> tuple[uuid.UUID, EmailSettings] | None:
        # Through the hook, so the owner of an address is decided in one place.
        tenant_id = self.hub.resolve_tenant("email", address)
        if tenant_id is None:
            return None
        found = self.book.lookup(address)
        return found if found is not None and found[0] == tenant_id else None

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Accept the address only when an enabled tenant owns it."""
        try:
            if self.book.fresh():
                found = self._resolve(address)  # in memory: no need to leave the event loop
            else:
                loop = asyncio.get_running_loop()
                found = await loop.run_in_executor(self.executor, self._resolve, address)
        except Exception:
            log.exception("smtp: resolving %s failed", address)
            return TEMPFAIL
        if found is None:
            if self.book.awaiting_verification(address):
                # Claimed but not proved: only its verification mail is taken (see DATA).
                _verifying(envelope).append(address)
                envelope.rcpt_tos.append(address)
                envelope.rcpt_options.extend(rcpt_options)
                return "250 2.1.5 OK"
            return "550 5.1.1 No such mailbox here"
        targets: dict[uuid.UUID, tuple[EmailSettings, list[str]]] = _targets(envelope)
        targets.setdefault(found[0], (found[1], []))[1].append(address)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Store the message once per tenant addressed; 250 only when every store committed."""
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        targets = _targets(envelope)
        verifying = _verifying(envelope)
        if verifying:
            loop = asyncio.get_running_loop()
            try:
                verified = [
                    await loop.run_in_executor(
                        self.executor, verify_address, self.hub, address, raw
                    )
                    for address in verifying
                ]
            except Exception:
                log.exception("smtp: verifying %s failed", ", ".join(verifying))
                return TEMPFAIL
            if not targets:
                if all(v is not None for v in verified):
                    return "250 2.0.0 OK address verified"
                return "550 5.7.1 This address awaits verification; it takes no mail yet"
        for settings, _ in targets.values():
            if len(raw) > settings.max_message_bytes:
                return "552 5.3.4 Message too big for this mailbox"
        mail_from = envelope.mail_from if envelope.mail_from not in (None, "", "<>") else None
        # Who sent it (SPF for this peer, DKIM, a trusted relay's results), per tenant, off
        # the event loop: DNS look-ups.
        peer = smtp_peer(session, mail_from)
        loop = asyncio.get_running_loop()
        verdicts = await asyncio.gather(
            *(
                loop.run_in_executor(self.executor, verify, raw, settings, peer)
                for settings, _ in targets.values()
            )
        )
        # A large message is parsed and stored on its own lane: it never shares a batch, or
        # a queue, with the small ones, so one tenant's 7 MB mail does not hold another's.
        lane = self.large if len(raw) > LARGE_MESSAGE_BYTES else self.batcher
        stores = [
            lane.submit(
                Received(
                    tenant_id=tenant_id,
                    raw=raw,
                    settings=settings,
                    source="smtp",
                    envelope_from=mail_from,
                    envelope_to=rcpts,
                    auth=verdict,
                )
            )
            for (tenant_id, (settings, rcpts)), verdict in zip(
                targets.items(), verdicts, strict=True
            )
        ]
        if not stores:  # aiosmtpd asks for a recipient first; never here
            return "503 5.5.1 Error: need RCPT command"
        outcomes = await asyncio.gather(*stores) if len(stores) > 1 else [await stores[0]]
        replies = []
        for tenant_id, outcome in zip(targets, outcomes, strict=True):
            if not isinstance(outcome, Delivery):
                log.error("smtp: storing a message for %s failed: %r", tenant_id, outcome)
                return TEMPFAIL
            replies.append(
                f"{outcome.outcome}" + (f" #{outcome.ticket_id}" if outcome.ticket_id else "")
            )
        return "250 2.0.0 OK " + ", ".join(replies)

    def close(self) -> None:
        self.batcher.close()
        self.large.close()
        self.executor.shutdown(wait=True)


def _verifying(envelope: Envelope) -> list[str]:
    """Recipients of this envelope that are claimed but not yet verified."""
    found = getattr(envelope, "hub_verifying", None)
    if found is None:
        found = []
        envelope.hub_verifying = found  # type: ignore[attr-defined]
    return found


def smtp_peer(session: Session, mail_from: str | None) -> SmtpPeer:
    """The sending side as this connection saw it: address, HELO name, MAIL FROM."""
    peer = session.peer
    ip = str(peer[0]) if isinstance(peer, tuple) and peer else ""
    return SmtpPeer(ip=ip, helo=session.host_name or "", mail_from=mail_from)


def _targets(envelope: Envelope) -> dict[uuid.UUID, tuple[EmailSettings, list[str]]]:
    """Per-envelope map tenant -> (settings, recipients), kept on the envelope object."""
    targets = getattr(envelope, "hub_targets", None)
    if targets is None:
        targets = {}
        envelope.hub_targets = targets  # type: ignore[attr-defined]
    return targets


# ``<local@domain>`` with a dot-atom local part and a plain domain, then the parameters: what
# nearly every client sends, and what the header parser aiosmtpd uses returns unchanged.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(
    rf"<({_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>"
    r"((?:[ \t][^(\r\n]*)?)\Z",
    re.S,
)


def _names(cls: type, prefixes: tuple[str, ...]) -> list[str]:
    names = _NAMES.get((cls, prefixes))
    if names is None:
        names = _NAMES[(cls, prefixes)] = sorted(
            n for n in [*object.__dir__(cls), *dir(cls)] if n.startswith(prefixes)
        )
    return names


_NAMES: dict[tuple[type, tuple[str, ...]], list[str]] = {}


class IntakeSMTP(SMTP):
    """aiosmtpd's SMTP, cheaper per connection (a do-nothing session costs about 40% less):

    - aiosmtpd builds its command and AUTH tables for every connection from ``dir(self)`` and
      ``inspect.getmembers(self)``, which look at every attribute; the only names it keeps are
      ``smtp_*`` and ``auth_*``, so ``dir()`` lists just those (computed once per class);
    - plain ``<local@domain>`` addresses in MAIL and RCPT skip the general header parser.
    """

    def __dir__(self) -> list[str]:
        return list(_names(type(self), ("smtp_", "auth_")))

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        match = _PLAIN_ADDRESS.match(arg.lstrip()) if arg else None
        if match is None:
            return super()._getaddr(arg)
        addr, rest = match.group(1), match.group(2).lstrip(" \t")
        if self.local_part_limit and len(addr.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return addr, rest


class IntakeController(Controller):
    """A Controller whose SMTP instances carry our limits."""

    def __init__(
        self,
        hub: HubContext,
        host: str,
        port: int,
        *,
        workers: int = 8,
        reuse_port: bool = False,
        store_threads: int = 1,
        batch_max: int = BATCH_MAX,
    ) -> None:
        self.intake = IntakeHandler(
            hub, workers=workers, store_threads=store_threads, batch_max=batch_max
        )
        # With reuse_port, several processes listen on one port and the kernel spreads the
        # connections over them: the way to use more than one core.
        self.reuse_port = reuse_port
        super().__init__(
            self.intake,
            hostname=host,
            port=port,
            server_hostname="hub-smtp",
            data_size_limit=SERVER_MAX_BYTES,
            ident="Teleops Support Hub",
        )

    def factory(self) -> SMTP:
        return IntakeSMTP(self.handler, **self.SMTP_kwargs)

    def _create_server(self) -> Any:
        return self.loop.create_server(
            self._factory_invoker,
            host=self.hostname,
            port=self.port,
            ssl=self.ssl_context,
            reuse_port=self.reuse_port or None,
        )

    def _trigger_server(self) -> None:
        # start() connects once to check that this process answers; with a shared port the
        # kernel may hand that connection to a sibling process, so try until ours answered.
        for _ in range(100 if self.reuse_port else 1):
            super()._trigger_server()
            if self._factory_invoked.is_set():
                return

    def stop(self, no_assert: bool = False) -> None:
        super().stop(no_assert=no_assert)
        self.intake.close()


def background_service(hub: HubContext) -> BackgroundService:
    """The SMTP listener as a ``BackgroundService`` for ``hub run``."""
    host, port = hub.listen_address("smtp")
    shared = hub.listen_shared("smtp")
    holder: dict[str, IntakeController] = {}

    def start() -> None:
        controller = IntakeController(hub, host, port, reuse_port=shared)
        controller.start()
        holder["c"] = controller
        log.info("smtp intake listening on %s:%s", host, port)

    def stop() -> None:
        controller = holder.pop("c", None)
        if controller is not None:
            controller.stop()

    return BackgroundService(
        name="smtp", start=start, stop=stop, describe=f"SMTP intake on {host}:{port}"
    )
