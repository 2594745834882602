"""One Bolt ``App`` per tenant, built from the tenant's settings and cached until they change.

Requests are verified here with the tenant's own signing secret (``core.clock`` time, 5-minute
window) before the tenant's app dispatches them; Bolt's own verification is therefore off.
Every listener acknowledges at once and does its work in a lazy listener on ``WORKER``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import urllib.request
import uuid
import weakref
from typing import Any
from urllib.request import Request

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import Clock, SignatureVerifier

from core.api import EgressPolicy, HubContext, PluginConfig, now
from plugins.slack import agents, intake
from plugins.slack.context import Ctx
from plugins.slack.payloads import HANDLED_EVENTS, team_of
from plugins.slack.settings import DEFAULT_API, api_base, checked_api_base
from plugins.slack.worker import WORKER

log = logging.getLogger(__name__)
PLUGIN = "slack"


class HubClock(Clock):
    """slack_sdk's clock reading the hub's one clock, so tests can move time."""

    def now(self) -> float:
        """Seconds since the epoch, by ``core.clock``."""
        return now().timestamp()


class PinnedWebClient(WebClient):
    """slack_sdk's Web API client whose connections go through the hub's egress policy: the
    API host's resolved address is checked and the connection made to that very address."""

    def __init__(self, *args: Any, egress: EgressPolicy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pinned = urllib.request.build_opener(*egress.urllib_handlers(self.ssl))

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        """slack_sdk's own, with the pinned opener in place of ``urlopen`` (no proxy)."""
        if not url.lower().startswith(("https://", "http://")):
            raise SlackRequestError(f"Invalid URL detected: {url}")
        resp = self._pinned.open(req, timeout=self.timeout)
        if resp.headers.get_content_type() == "application/gzip":
            return {"status": resp.code, "headers": resp.headers, "body": resp.read()}
        charset = resp.headers.get_content_charset() or "utf-8"
        return {"status": resp.code, "headers": resp.headers, "body": resp.read().decode(charset)}


def make_client(cfg: PluginConfig, egress: EgressPolicy) -> WebClient:
    """A Web API client for the tenant (its token, its API base URL); waits out rate limits.

    The base URL is Slack's own unless the operator allows vendor overrides (else
    ``EgressRefused``), and every connection is checked and pinned by the egress policy."""
    client = PinnedWebClient(
        token=cfg.get("bot_token") or None,
        base_url=checked_api_base(cfg.get("api_base_url"), egress),
        egress=egress,
    )
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def verify(cfg: PluginConfig, raw: bytes, headers: dict[str, str]) -> bool:
    """Slack's v0 HMAC-SHA256 signature with this tenant's secret, within 5 minutes."""
    secret = cfg.get("signing_secret")
    if not secret:
        return False
    verifier = SignatureVerifier(secret, clock=HubClock())
    return verifier.is_valid(
        raw, headers.get("x-slack-request-timestamp"), headers.get("x-slack-signature")
    )


def _fingerprint(cfg: PluginConfig) -> str:
    parts = [
        cfg.get("team_id", ""),
        cfg.get("bot_token", ""),
        cfg.get("signing_secret", ""),
        api_base(cfg.get("api_base_url")),
        str(cfg.state.get("bot_user_id")),
    ]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


class SlackService:
    """The Slack side of one hub: tenants' Bolt apps and the listeners' context."""

    def __init__(self, hub: HubContext) -> None:
        self.hub = hub
        self._apps: dict[uuid.UUID, tuple[str, App]] = {}
        self._lock = threading.Lock()

    def config(self, tenant_id: uuid.UUID) -> PluginConfig | None:
        """The tenant's Slack configuration, None when it is off.

        One light query per call (the hub decrypts secrets again only when their stored
        ciphertext changed), so a change made by an admin applies to the very next request."""
        cfg = self.hub.config(tenant_id, PLUGIN)
        return cfg if cfg.enabled else None

    # ------------------------------------------------------------ apps

    def app_for(self, tenant_id: uuid.UUID, cfg: PluginConfig) -> App:
        """The tenant's Bolt app, rebuilt when its settings (or the learnt bot ids) changed.

        No Web API call happens here, on the acknowledgement's path: the bot's identity is
        learnt by the first listener that runs (``ctx``)."""
        key = _fingerprint(cfg)
        with self._lock:
            cached = self._apps.get(tenant_id)
            if cached is not None and cached[0] == key:
                return cached[1]
        app = self._build(tenant_id, cfg)
        with self._lock:
            self._apps[tenant_id] = (key, app)
        return app

    def drop(self, tenant_id: uuid.UUID) -> None:
        """Forget the tenant's app (uninstalled or reconfigured)."""
        with self._lock:
            self._apps.pop(tenant_id, None)

    def ensure_bot_identity(self, tenant_id: uuid.UUID, cfg: PluginConfig) -> PluginConfig:
        """Learn the bot's own user and bot ids once (``auth.test``), so its messages are ignored."""
        if cfg.state.get("bot_user_id") or not cfg.get("bot_token"):
            return cfg
        try:
            resp = make_client(cfg, self.hub.egress).auth_test()
        except SlackApiError as exc:
            log.warning(
                "slack auth.test failed for tenant %s: %s", tenant_id, exc.response.get("error")
            )
            return cfg
        state = {"bot_user_id": resp.get("user_id"), "bot_id": resp.get("bot_id")}
        self.hub.save_state(tenant_id, PLUGIN, state)
        return PluginConfig(
            tenant_id=cfg.tenant_id,
            plugin=cfg.plugin,
            enabled=cfg.enabled,
            settings=cfg.settings,
            secrets=cfg.secrets,
            state={**cfg.state, **state},
        )

    def _build(self, tenant_id: uuid.UUID, cfg: PluginConfig) -> App:
        token = cfg.get("bot_token")
        bot_user_id, bot_id = cfg.state.get("bot_user_id"), cfg.state.get("bot_id")

        def authorize(
            enterprise_id: str | None, team_id: str | None, user_id: str | None
        ) -> AuthorizeResult:
            return AuthorizeResult(
                enterprise_id=enterprise_id,
                team_id=team_id,
                user_id=user_id,
                bot_token=token,
                bot_user_id=bot_user_id,
                bot_id=bot_id,
            )

        app = App(
            name=f"hub-slack-{tenant_id}",
            # Bolt copies this into per-request clients that no listener here uses (they call
            # ``Ctx.client``, from ``make_client``): it stays on Slack's own API.
            client=PinnedWebClient(base_url=DEFAULT_API, egress=self.hub.egress),
            signing_secret=cfg.get("signing_secret") or "-",
            request_verification_enabled=False,  # verified in routes with the tenant's secret
            authorize=authorize,
            process_before_response=True,  # ack functions are instant; the work is lazy
            listener_executor=WORKER,
            raise_error_for_unhandled_request=False,
        )

        def lazy(handler: Any) -> Any:
            """Wrap a handler taking (ctx, body) as a Bolt lazy listener."""

            def run(body: dict[str, Any], context: Any) -> None:
                try:
                    ctx = self.ctx(uuid.UUID(context["hub_tenant_id"]), body)
                    if ctx is not None:
                        handler(ctx, body)
                except Exception:
                    # Nothing was stored for a failed message (its dedupe key neither), so a
                    # retry from Slack is processed afresh.
                    log.exception(
                        "slack %s failed for tenant %s",
                        handler.__name__,
                        context.get("hub_tenant_id"),
                    )

            run.__name__ = f"lazy_{handler.__module__.rsplit('.', 1)[-1]}_{handler.__name__}"
            return run

        team_id = cfg.get("team_id")

        def bind_tenant(body: dict[str, Any], context: Any, next: Any) -> Any:
            """Every request names its tenant; a Socket Mode connection shared by several
            workspaces only passes this tenant's own."""
            team = team_of(body)
            if team and team_id and team != team_id:
                return BoltResponse(status=404, body="")
            context["hub_tenant_id"] = str(tenant_id)
            return next()

        app.use(bind_tenant)

        def ack(ack: Any) -> None:
            ack()

        listeners = {
            "message": intake.on_message,
            "app_mention": intake.on_mention,
            "app_uninstalled": self.on_uninstalled,
            "tokens_revoked": self.on_uninstalled,
        }
        for event_type in HANDLED_EVENTS:
            app.event(event_type)(ack=ack, lazy=[lazy(listeners[event_type])])
        app.command(re.compile(r"^/ticket$"))(ack=ack, lazy=[lazy(intake.on_ticket_command)])
        app.command(re.compile(r"^/reply$"))(ack=agents.ack_reply, lazy=[lazy(agents.on_reply)])
        app.view("hub_new_ticket")(ack=ack, lazy=[lazy(intake.on_modal_submit)])
        app.shortcut("hub_ticket_from_message")(ack=ack, lazy=[lazy(intake.on_message_shortcut)])
        app.shortcut("hub_send_to_requester")(ack=ack, lazy=[lazy(agents.on_send_to_requester)])
        app.action(re.compile(r"^hub_"))(ack=ack, lazy=[lazy(agents.on_action)])
        # Everything else (other events, others' buttons) is acknowledged quietly, so Slack
        # does not retry it and Bolt does not log each one as unhandled.
        app.event(re.compile(r".*"))(ack)
        app.action(re.compile(r".*"))(ack)
        return app

    # ------------------------------------------------------------ requests

    def dispatch(
        self, tenant_id: uuid.UUID, cfg: PluginConfig, raw: bytes, headers: dict[str, Any]
    ) -> BoltResponse:
        """Hand a verified request to the tenant's Bolt app; returns Bolt's acknowledgement."""
        app = self.app_for(tenant_id, cfg)
        request = BoltRequest(body=raw.decode("utf-8"), headers=headers)
        return app.dispatch(request)

    def ctx(self, tenant_id: uuid.UUID, body: dict[str, Any]) -> Ctx | None:
        """A fresh context for a listener; None when the plugin was turned off meanwhile."""
        cfg = self.hub.config(tenant_id, PLUGIN)
        if not cfg.enabled:
            return None
        cfg = self.ensure_bot_identity(tenant_id, cfg)
        return Ctx(
            hub=self.hub,
            tenant_id=tenant_id,
            team=team_of(body) or cfg.get("team_id"),
            config=cfg,
            client=make_client(cfg, self.hub.egress),
        )

    def on_uninstalled(self, ctx: Ctx, body: dict[str, Any]) -> None:
        """``app_uninstalled`` / ``tokens_revoked`` (of the bot): turn the plugin off."""
        event = body.get("event") or {}
        if event.get("type") == "tokens_revoked" and not (event.get("tokens") or {}).get("bot"):
            return  # only user tokens were revoked; the bot still works
        self.hub.set_enabled(
            ctx.tenant_id,
            PLUGIN,
            False,
            reason=f"Slack {event.get('type')} for workspace {ctx.team}",
        )
        self.drop(ctx.tenant_id)


# One service per hub, made by the ``hub_configure`` hook when the hub is ready; a hub that is
# dropped takes its service (and its tenants' Bolt apps) with it.
_services: weakref.WeakKeyDictionary[HubContext, SlackService] = weakref.WeakKeyDictionary()


def configure(hub: HubContext) -> None:
    """Make the hub's service (``hub_configure``: once per hub)."""
    _services[hub] = SlackService(hub)


def service_for(hub: HubContext) -> SlackService:
    """The service ``configure`` made for this hub."""
    return _services[hub]
