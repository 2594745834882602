"""The SMTP intake server (aiosmtpd): 250 only after the commit, 451 when the database fails.

RCPT is accepted only for an address some tenant with the plugin enabled lists in ``addresses``
(``local+tag@domain`` counts as ``local@domain``: the tag is a reply token); others get 550. DATA
over the tenant's ``max_message_bytes`` gets 552. The database work runs in a thread pool so the
event loop keeps serving other sessions meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from core.api import BackgroundService, HubContext
from plugins.email.delivery import TRANSIENT, deliver, settings_of
from plugins.email.settings import EmailSettings

log = logging.getLogger("hub.email.smtp")
# The server-wide cap (SIZE in EHLO); each tenant's own limit is checked after DATA.
SERVER_MAX_BYTES = 50 * 1024 * 1024
TEMPFAIL = "451 4.3.0 Temporary failure, please try again later"


class IntakeHandler:
    """aiosmtpd handler: resolves recipients at RCPT time, stores the message at DATA time."""

    def __init__(self, hub: HubContext, workers: int = 8) -> None:
        self.hub = hub
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smtp-db")

    async def _run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: fn(*args, **kwargs))

    def _resolve(self, address: str) -> tuple[uuid.UUID, EmailSettings] | None:
        # Through the hook, so the owner of an address is decided in one place.
        tenant_id = self.hub.resolve_tenant("email", address)
        if tenant_id is None:
            return None
        return tenant_id, settings_of(self.hub.config(tenant_id, "email"))

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        """Accept the address only when an enabled tenant owns it."""
        try:
            found = await self._run(self._resolve, address)
        except Exception:  # noqa: BLE001 - database down: the client must retry, never bounce
            log.exception("smtp: resolving %s failed", address)
            return TEMPFAIL
        if found is None:
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
        for settings, _ in targets.values():
            if len(raw) > settings.max_message_bytes:
                return "552 5.3.4 Message too big for this mailbox"
        mail_from = envelope.mail_from if envelope.mail_from not in (None, "", "<>") else None
        outcomes = []
        for tenant_id, (settings, rcpts) in targets.items():
            try:
                delivery = await self._run(deliver, self.hub, tenant_id, raw, settings=settings,
                                           source="smtp", envelope_from=mail_from,
                                           envelope_to=rcpts)
            except TRANSIENT:
                log.exception("smtp: database failure storing a message for %s", tenant_id)
                return TEMPFAIL
            except Exception:  # noqa: BLE001 - even parking failed: keep the sender retrying
                log.exception("smtp: storing a message for %s failed", tenant_id)
                return TEMPFAIL
            outcomes.append(f"{delivery.outcome}" + (f" #{delivery.ticket_id}"
                                                     if delivery.ticket_id else ""))
        return "250 2.0.0 OK " + ", ".join(outcomes)

    def close(self) -> None:
        self.executor.shutdown(wait=True)


def _targets(envelope: Envelope) -> dict[uuid.UUID, tuple[EmailSettings, list[str]]]:
    """Per-envelope map tenant -> (settings, recipients), kept on the envelope object."""
    targets = getattr(envelope, "hub_targets", None)
    if targets is None:
        targets = {}
        envelope.hub_targets = targets  # type: ignore[attr-defined]
    return targets


class IntakeController(Controller):
    """A Controller whose SMTP instances carry our limits."""

    def __init__(self, hub: HubContext, host: str, port: int, *, workers: int = 8,
                 reuse_port: bool = False) -> None:
        self.intake = IntakeHandler(hub, workers=workers)
        # With reuse_port, several processes listen on one port and the kernel spreads the
        # connections over them: the way to use more than one core.
        self.reuse_port = reuse_port
        super().__init__(self.intake, hostname=host, port=port, server_hostname="hub-smtp",
                         data_size_limit=SERVER_MAX_BYTES, ident="Teleops Support Hub")

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, host=self.hostname,
                                       port=self.port, ssl=self.ssl_context,
                                       reuse_port=self.reuse_port or None)

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
    holder: dict[str, IntakeController] = {}

    def start() -> None:
        controller = IntakeController(hub, host, port)
        controller.start()
        holder["c"] = controller
        log.info("smtp intake listening on %s:%s", host, port)

    def stop() -> None:
        controller = holder.pop("c", None)
        if controller is not None:
            controller.stop()

    return BackgroundService(name="smtp", start=start, stop=stop,
                             describe=f"SMTP intake on {host}:{port}")


def serve(hub: HubContext, host: str, port: int, *, reuse_port: bool = False) -> None:
    """Run the SMTP intake server in the foreground until SIGINT or SIGTERM (``hub smtp``).

    ``reuse_port=True`` lets several such processes share the port (one per core).
    """
    controller = IntakeController(hub, host, port, reuse_port=reuse_port)
    controller.start()
    log.info("smtp intake listening on %s:%s", host, port)
    done = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: done.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        done.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        controller.stop()
