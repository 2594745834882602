"""The running hub: settings, database, plugin manager and the context plugins are given."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.crypto import Keyring
from core.db import TRANSIENT_DB_ERRORS
from core.egress import EgressPolicy
from core.fields.search_text import ticket_search_text
from core.intake import InboundMessage, IngestResult, find_duplicate, ingest, ingest_many
from core.permissions import system_actor
from core.scan import ScanVerdict
from core.search import register_ticket_text
from core.services import plugins as plugin_service
from core.services.attachments import DEFAULT_TYPES, AttachmentPolicy
from core.services.plugins import PluginConfig
from core.storage import FileBlobStore
from core.types import HubContext, PluginInfo
from hub import log_config
from hub.db import make_engine, make_sessionmaker, session_scope
from hub.plugins import TenantHooks, make_plugin_manager, plugin_infos
from hub.settings import Settings

# Search indexes each ticket's tags and custom field values with its own row (core.search).
register_ticket_text(ticket_search_text)

log = logging.getLogger("hub")


def _builtin_plugins() -> list[tuple[str, object]]:
    from hub import builtins

    return builtins.plugins()


class Hub:
    """Everything a process of the hub shares; implements ``core.types.HubContext``."""

    def __init__(
        self,
        settings: Settings,
        *,
        pm: pluggy.PluginManager | None = None,
        engine: Engine | None = None,
    ) -> None:
        self.settings = settings
        log_config.configure_from_settings(settings)  # once per process (idempotent)
        self.base_url = settings.base_url.rstrip("/")
        self.data_dir = Path(settings.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.keyring = Keyring(settings.keyring_secrets)
        self.egress = EgressPolicy.from_settings(
            settings.egress_allow, vendor_override=settings.egress_allow_vendor_override
        )
        self.blob_store = FileBlobStore(settings.blob_dir)
        self.attachment_policy = AttachmentPolicy(
            max_bytes=settings.attachment_max_bytes,
            allowed_types=tuple(settings.attachment_types) or DEFAULT_TYPES,
            scan=self._scan,
        )
        self.engine = engine or make_engine(
            settings.resolved_database_url, pool_size=settings.db_pool_size
        )
        self.sessions: sessionmaker[Session] = make_sessionmaker(self.engine)
        # Reads never wait for a writer: on SQLite a second engine with deferred transactions
        # (WAL lets them run beside a writer); elsewhere the same engine.
        self.read_engine = (
            make_engine(self.engine.url.render_as_string(hide_password=False), read_only=True)
            if self.engine.dialect.name == "sqlite"
            else self.engine
        )
        self.read_sessions: sessionmaker[Session] = make_sessionmaker(self.read_engine)
        if pm is None:
            load = [n.strip() for n in settings.load_plugins.split(",") if n.strip()] or None
            pm = make_plugin_manager(
                load=load,
                autoload=not settings.disable_plugin_autoload,
                extra=_builtin_plugins(),
                trace=settings.trace_plugins,
            )
        self.pm = pm
        self.infos: dict[str, PluginInfo] = plugin_infos(pm)
        self.builtin_names = {name for name, _ in _builtin_plugins()}
        self.tenant_hooks = TenantHooks(pm, self._disabled_for, always_on=self.builtin_names)
        self._kick: Callable[[], None] = lambda: None
        # Commits publish what they changed to the live streams (hub.live_bus).
        from hub import live_bus

        self.live = live_bus.install(self)
        pm.hook.hub_configure.call_historic(kwargs={"hub": self})

    def _scan(self, tenant_id: uuid.UUID, data: bytes, filename: str) -> ScanVerdict | None:
        """The ``hub_scan_attachment`` hook on the tenant's relay (firstresult)."""
        return self.hooks(tenant_id).hub_scan_attachment(
            data=data, filename=filename, tenant_id=tenant_id, hub=self
        )

    @property
    def scanning(self) -> str:
        """What scans uploads, for the ``hub run`` banner."""
        engines = [
            name
            for name, plugin in self.pm.list_name_plugin()
            if hasattr(plugin, "hub_scan_attachment") and name != "clamav"
        ]
        if self.settings.clamd_socket:
            engines.append(f"ClamAV at {self.settings.clamd_socket}")
        return ", ".join(engines) if engines else "off (no HUB_CLAMD_SOCKET, no scan plugin)"

    # ----------------------------------------------------------- HubContext

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.sessions) as session:
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reads only; it is rolled back at the end."""
        session = self.read_sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def installed(self) -> list[str]:
        """Names of installed plugins a tenant can enable (built-ins are always on)."""
        return sorted(n for n in self.infos if n not in self.builtin_names)

    def _disabled_for(self, tenant_id: uuid.UUID) -> set[str]:
        with self.read_session() as s:
            return plugin_service.disabled_plugins(s, tenant_id, self.installed())

    def hooks(self, tenant_id: uuid.UUID) -> Any:
        return self.tenant_hooks.for_tenant(tenant_id)

    def is_enabled(self, tenant_id: uuid.UUID, plugin: str) -> bool:
        return plugin in self.builtin_names or plugin not in self._disabled_for(tenant_id)

    def config(self, tenant_id: uuid.UUID, plugin: str) -> PluginConfig:
        with self.read_session() as s:
            return plugin_service.load_config(s, tenant_id, plugin, self.keyring)

    def enabled_configs(self, plugin: str) -> list[PluginConfig]:
        with self.read_session() as s:
            return plugin_service.enabled_configs(s, plugin, self.keyring)

    def save_state(self, tenant_id: uuid.UUID, plugin: str, state: dict[str, Any]) -> None:
        with self.session() as s:
            plugin_service.save_state(s, tenant_id, plugin, state)

    def set_enabled(self, tenant_id: uuid.UUID, plugin: str, enabled: bool, *, reason: str) -> None:
        with self.session() as s:
            plugin_service.set_enabled(s, system_actor(tenant_id), plugin, enabled)
        self.tenant_hooks.invalidate(tenant_id)
        log.info(
            "plugin %s %s for tenant %s: %s",
            plugin,
            "enabled" if enabled else "disabled",
            tenant_id,
            reason,
        )

    def resolve_tenant(self, channel: str, key: str) -> uuid.UUID | None:
        return self.pm.hook.hub_resolve_tenant(channel=channel, key=key, hub=self)

    def ticket_url(self, tenant_id: uuid.UUID, ticket_id: int) -> str:
        return f"{self.base_url}/tickets/{ticket_id}"

    def kick(self) -> None:
        self._kick()

    def set_kicker(self, kick: Callable[[], None]) -> None:
        self._kick = kick

    def verify_ticket_token(self, tenant_id: uuid.UUID, token: str) -> int | None:
        """A reply token is ``<ticket id>-<signature over tenant and ticket>``, and for one
        recipient ``-<signature over tenant, ticket and address>`` after it."""
        ticket, _, rest = token.partition("-")
        sig = rest.partition("-")[0]
        if not ticket.isdigit() or not sig:
            return None
        return int(ticket) if self.keyring.verify(f"{tenant_id}:{ticket}", sig) else None

    def verify_token_recipient(self, tenant_id: uuid.UUID, token: str, address: str) -> bool:
        """Whether the reply token was signed for this recipient address."""
        ticket, _, rest = token.partition("-")
        _, _, bound = rest.partition("-")
        if self.verify_ticket_token(tenant_id, token) is None or not bound:
            return False
        return self.keyring.verify(f"{tenant_id}:{ticket}:{address.strip().lower()}", bound)

    def ticket_token(
        self, tenant_id: uuid.UUID, ticket_id: int, recipient: str | None = None
    ) -> str:
        token = f"{ticket_id}-{self.keyring.sign(f'{tenant_id}:{ticket_id}')}"
        if recipient:
            bound = self.keyring.sign(f"{tenant_id}:{ticket_id}:{recipient.strip().lower()}")
            token = f"{token}-{bound}"
        return token

    def requester_link(self, tenant_id: uuid.UUID, ticket_id: int, email: str) -> str | None:
        from hub.auth_links import requester_link

        return requester_link(self, tenant_id, ticket_id, email)

    def rating_links(
        self, tenant_id: uuid.UUID, ticket_id: int, email: str
    ) -> list[dict[str, str]]:
        from hub.rating_links import links

        return links(self, tenant_id, ticket_id, email)

    def listen_address(self, service: str) -> tuple[str, int]:
        if service == "smtp":
            return self.settings.smtp_host, self.settings.smtp_port
        return self.settings.host, self.settings.port

    def listen_shared(self, service: str) -> bool:
        return service == "smtp" and self.settings.smtp_processes > 1

    def _thread_hook(self, tenant_id: uuid.UUID) -> Callable[..., int | None]:
        hooks = self.hooks(tenant_id)

        def thread_hook(session: Session, tid: uuid.UUID, msg: InboundMessage) -> int | None:
            return hooks.hub_thread_message(session=session, tenant_id=tid, message=msg)

        return thread_hook

    def ingest(self, tenant_id: uuid.UUID, message: InboundMessage) -> IngestResult:
        from hub import metrics

        try:
            result = self._ingest(tenant_id, message)
        except Exception as exc:
            metrics.observe_intake_error(tenant_id, message.channel, exc)
            raise
        metrics.observe_intake(tenant_id, message.channel, result)
        return result

    def _ingest(self, tenant_id: uuid.UUID, message: InboundMessage) -> IngestResult:
        try:
            with self.session() as s:
                result = ingest(
                    s,
                    tenant_id,
                    message,
                    store=self.blob_store,
                    policy=self.attachment_policy,
                    thread_hook=self._thread_hook(tenant_id),
                    verify_token=self.verify_ticket_token,
                    verify_recipient=self.verify_token_recipient,
                )
        except IntegrityError:
            # A concurrent delivery of the same message won the unique dedupe key.
            with self.session() as s:
                dup = find_duplicate(s, tenant_id, message)
            if dup is None:
                raise
            return dup
        if result.outcome != "duplicate":
            self.kick()
        return result

    def ingest_many(
        self, items: list[tuple[uuid.UUID, InboundMessage]]
    ) -> list[IngestResult | Exception]:
        """Ingest several messages (of any tenants) in ONE transaction: one commit, and the raw
        messages forced to disk together just before it. Returns, per message, its result or
        the exception it raised; every result is committed when this returns.

        When the batch fails, it is rolled back and each message is ingested alone, so that one
        bad message fails only itself. When the first of those fails for a database reason
        (down, unreachable), the others get the same error without trying again.
        """
        if len(items) <= 1:
            return [self._ingest_alone(tid, msg) for tid, msg in items]
        hooks: dict[uuid.UUID, Callable[..., int | None]] = {}

        def thread_hook(session: Session, tid: uuid.UUID, msg: InboundMessage) -> int | None:
            if tid not in hooks:
                hooks[tid] = self._thread_hook(tid)
            return hooks[tid](session, tid, msg)

        try:
            with self.session() as s:
                blobs = _DeferredBlobs(self.blob_store)
                results = ingest_many(
                    s,
                    items,
                    store=blobs,
                    policy=self.attachment_policy,
                    thread_hook=thread_hook,
                    verify_token=self.verify_ticket_token,
                    verify_recipient=self.verify_token_recipient,
                )
                blobs.sync()
        except Exception:
            log.info("ingest: a batch of %d failed; storing each alone", len(items), exc_info=True)
            out: list[IngestResult | Exception] = []
            down: Exception | None = None
            for tenant_id, message in items:
                result = down or self._ingest_alone(tenant_id, message)
                if isinstance(result, TRANSIENT_DB_ERRORS) and not out:
                    down = result
                out.append(result)
            return out
        if any(r.outcome != "duplicate" for r in results):
            self.kick()
        from hub import metrics

        for (tenant_id, message), result in zip(items, results, strict=True):
            metrics.observe_intake(tenant_id, message.channel, result)
        return list(results)

    def _ingest_alone(
        self, tenant_id: uuid.UUID, message: InboundMessage
    ) -> IngestResult | Exception:
        try:
            return self.ingest(tenant_id, message)
        except Exception as exc:
            return exc


class _DeferredBlobs:
    """The blob store of one batch: blobs are written at once and forced to disk together by
    ``sync`` just before the commit (one disk flush for the batch instead of one per blob)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.keys: list[str] = []
        self.deferred = callable(getattr(store, "sync", None))

    def put(self, data: bytes) -> str:
        if not self.deferred:
            return str(self.store.put(data))
        key = str(self.store.put(data, sync=False))
        self.keys.append(key)
        return key

    def get(self, key: str) -> bytes:
        return bytes(self.store.get(key))

    def delete(self, key: str) -> bool:
        return bool(self.store.delete(key))

    def sync(self) -> None:
        if self.keys:
            self.store.sync(self.keys)


def build_hub(settings: Settings | None = None, **kwargs: Any) -> Hub:
    """The process-wide hub; each process (API, worker, CLI) builds one."""
    return Hub(settings or Settings(), **kwargs)


if TYPE_CHECKING:
    # mypy fails here when ``Hub`` drifts from the protocol plugins are typed against.
    _HUB_IS_A_CONTEXT: type[HubContext] = Hub
