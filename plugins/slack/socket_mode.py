"""Socket Mode: for installs without a public URL, tenants' apps connect out to Slack instead.

A tenant turns it on with ``socket_mode`` and an app-level token ``app_token`` (``xapp-...``,
secret). ``hub run`` starts this runner (a background service); it keeps one Socket Mode
connection per such tenant, opened with ``apps.connections.open`` on the tenant's API base URL,
and re-reads the settings every ``interval`` seconds so tenants turned on or off are followed.
The same Bolt app and listeners as in HTTP mode handle the envelopes; every envelope is
acknowledged (also the ones no listener wants, so Slack does not redeliver them).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from time import time

from slack_bolt.adapter.socket_mode.builtin import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_bolt.response import BoltResponse
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from core.api import PluginConfig
from plugins.slack.payloads import ignored_reason
from plugins.slack.service import PLUGIN, SlackService, make_client

log = logging.getLogger(__name__)


class HubSocketModeHandler(SocketModeHandler):
    """Bolt's built-in Socket Mode handler, acknowledging unhandled envelopes too."""

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        """Dispatch one envelope to the tenant's Bolt app and acknowledge it."""
        start = time()
        reason = ignored_reason(req.payload) if isinstance(req.payload, dict) else None
        if reason is not None:
            log.info("slack socket mode envelope %s ignored: %s", req.envelope_id, reason)
        resp: BoltResponse = run_bolt_app(self.app, req)
        if resp.status == 404:
            resp = BoltResponse(status=200, body="")
        send_response(client, req, resp, start)


def wanted(cfg: PluginConfig) -> bool:
    """Whether the tenant asked for Socket Mode and gave an app token."""
    return bool(cfg.get("socket_mode")) and bool(cfg.get("app_token"))


def _fingerprint(cfg: PluginConfig) -> str:
    parts = [
        str(cfg.get("app_token")),
        str(cfg.get("bot_token")),
        str(cfg.get("api_base_url")),
        str(cfg.get("team_id")),
    ]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


class SocketModeRunner:
    """Keeps the Socket Mode connections of the tenants that want one."""

    def __init__(self, svc: SlackService, interval: float = 30.0) -> None:
        self.svc = svc
        self.interval = interval
        self._handlers: dict[uuid.UUID, tuple[str, HubSocketModeHandler]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Connect now and keep following the settings in a background thread."""
        self._stop.clear()
        self.sync()
        self._thread = threading.Thread(target=self._loop, name="slack-socket-mode", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sync()
            except Exception:
                log.exception("slack socket mode sync failed")

    def sync(self) -> None:
        """Open connections for tenants that want one, close those that no longer do."""
        configs = {
            cfg.tenant_id: cfg for cfg in self.svc.hub.enabled_configs(PLUGIN) if wanted(cfg)
        }
        with self._lock:
            for tenant_id in list(self._handlers):
                cfg = configs.get(tenant_id)
                if cfg is None or _fingerprint(cfg) != self._handlers[tenant_id][0]:
                    self._close(tenant_id)
            for tenant_id, cfg in configs.items():
                if tenant_id in self._handlers:
                    continue
                try:
                    self._open(tenant_id, cfg)
                except Exception as exc:
                    log.warning("slack socket mode for tenant %s not connected: %s", tenant_id, exc)

    def _open(self, tenant_id: uuid.UUID, cfg: PluginConfig) -> None:
        app = self.svc.app_for(tenant_id, cfg)
        handler = HubSocketModeHandler(
            app,
            app_token=cfg.get("app_token"),
            web_client=make_client(cfg, self.svc.hub.egress),
            ping_interval=10,
        )
        handler.connect()
        self._handlers[tenant_id] = (_fingerprint(cfg), handler)
        log.info("slack socket mode connected for tenant %s", tenant_id)

    def _close(self, tenant_id: uuid.UUID) -> None:
        _, handler = self._handlers.pop(tenant_id)
        try:
            handler.close()
        except Exception:
            log.debug("closing socket mode handler", exc_info=True)

    def connected(self, tenant_id: uuid.UUID) -> bool:
        """Whether the tenant's Socket Mode connection is up."""
        entry = self._handlers.get(tenant_id)
        return entry is not None and entry[1].client.is_connected()

    def stop(self) -> None:
        """Close every connection and the settings loop."""
        self._stop.set()
        with self._lock:
            for tenant_id in list(self._handlers):
                self._close(tenant_id)
        if self._thread is not None:
            self._thread.join(timeout=5)
