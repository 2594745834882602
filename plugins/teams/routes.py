"""``POST /plugins/teams/messages`` (Bot Framework) and ``POST /plugins/teams/webhook``
(Teams outgoing webhook)."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any

import jwt
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from core.api import HubContext, PluginConfig, Tenant, TenantPlugin

from .auth import AuthError, OpenIdKeys, bearer, verify_connector_token, webhook_valid
from .intake import handle_activity, ingest_message, webhook_reply
from .payloads import app_id_of
from .settings import DEFAULT_OPENID_METADATA_URL

log = logging.getLogger(__name__)
PLUGIN = "teams"
KEYS = OpenIdKeys()


def _json(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _claimed_app(activity: dict[str, Any], token: str) -> str:
    """The app the activity is for: its recipient, else the token's (unverified) audience.

    Only picks the tenant; the token is then verified against that tenant's app id."""
    app_id = app_id_of(activity)
    if app_id:
        return app_id
    try:
        aud = jwt.decode(token, options={"verify_signature": False}).get("aud")
    except jwt.PyJWTError:
        return ""
    return aud if isinstance(aud, str) else ""


def _enabled_config(hub: HubContext, tenant_id: uuid.UUID | None) -> PluginConfig | None:
    if tenant_id is None:
        return None
    cfg = hub.config(tenant_id, PLUGIN)
    return cfg if cfg.enabled else None


def handle_messages(hub: HubContext, raw: bytes, authorization: str | None) -> Response:
    """Authenticate a Bot Connector request for its tenant, then process the activity."""
    activity = _parse(raw)
    if activity is None:
        return _json(400, "the body is not a Bot Framework activity (JSON object)")
    try:
        token = bearer(authorization)
    except AuthError as exc:
        return _json(401, str(exc))
    app_id = _claimed_app(activity, token)
    cfg = _enabled_config(hub, hub.resolve_tenant(PLUGIN, app_id) if app_id else None)
    if cfg is None:
        return _json(404, "no tenant has Teams enabled for this bot")
    try:
        verify_connector_token(
            token,
            keys=KEYS,
            app_id=str(cfg.get("app_id") or ""),
            metadata_url=str(cfg.get("openid_metadata_url") or DEFAULT_OPENID_METADATA_URL),
            service_url=activity.get("serviceUrl"),
            channel_id=activity.get("channelId"),
            egress=hub.egress,
        )
    except AuthError as exc:
        log.info("teams: rejected a Bot Connector request: %s", exc)
        return _json(401, "invalid Bot Framework token")
    answer = handle_activity(hub, cfg, activity)
    if answer is not None:
        return JSONResponse(answer, status_code=200)
    return Response(status_code=200)


class WebhookSecrets:
    """Tenants' outgoing-webhook secrets, decrypted again only when the stored ciphertext changes
    (an unnamed webhook request is checked against every enabled tenant's secret)."""

    def __init__(self) -> None:
        self._plain: dict[uuid.UUID, tuple[str, str]] = {}
        self._lock = threading.Lock()

    def candidates(
        self, hub: HubContext, tenant_id: uuid.UUID | None
    ) -> list[tuple[uuid.UUID, str]]:
        """(tenant, secret) of enabled tenants, or of the one tenant named."""
        stmt = select(TenantPlugin.tenant_id, TenantPlugin.secrets_encrypted).where(
            TenantPlugin.plugin == PLUGIN, TenantPlugin.enabled.is_(True)
        )
        if tenant_id is not None:
            stmt = stmt.where(TenantPlugin.tenant_id == tenant_id)
        with hub.session() as s:
            rows = s.execute(stmt).all()
        out: list[tuple[uuid.UUID, str]] = []
        for tid, cipher in rows:
            with self._lock:
                cached = self._plain.get(tid)
            if cached is None or cached[0] != (cipher or ""):
                secrets = hub.keyring.decrypt_json(cipher) if cipher else {}
                cached = (cipher or "", str(secrets.get("outgoing_webhook_secret") or ""))
                with self._lock:
                    self._plain[tid] = cached
            if cached[1]:
                out.append((tid, cached[1]))
        return out


SECRETS = WebhookSecrets()


def _named_tenant(hub: HubContext, slug: str) -> uuid.UUID | None:
    with hub.session() as s:
        return s.scalar(select(Tenant.id).where(Tenant.slug == slug))


def handle_webhook(
    hub: HubContext, raw: bytes, authorization: str | None, slug: str | None
) -> Response:
    """Verify the HMAC with the owning tenant's secret, store the message, name the ticket."""
    named = _named_tenant(hub, slug) if slug is not None else None
    if slug is not None and _enabled_config(hub, named) is None:
        return _json(404, "no tenant has Teams enabled here")
    # The secret that signs the body identifies the tenant; two tenants matching is refused.
    owners = [
        tid
        for tid, secret in SECRETS.candidates(hub, named)
        if webhook_valid(secret, raw, authorization)
    ]
    if len(owners) != 1:
        return _json(401, "invalid outgoing webhook signature")
    cfg = _enabled_config(hub, owners[0])
    if cfg is None:  # turned off meanwhile
        return _json(404, "no tenant has Teams enabled here")
    activity = _parse(raw)
    if activity is None or activity.get("type") != "message":
        return _json(400, "the body is not a Teams message activity")
    done = ingest_message(hub, cfg, activity, via="webhook")
    text = webhook_reply(done[0] if done else None)
    return JSONResponse({"type": "message", "text": text})


def build_router(hub: HubContext) -> APIRouter:
    """The router the hub mounts under ``/plugins/teams``."""
    router = APIRouter()

    @router.post("/messages", summary="Bot Framework messaging endpoint")
    async def messages(request: Request) -> Response:
        """Activities from the Bot Connector: 401 for a bad token, 404 for a bot no tenant has
        enabled; an ``invoke`` is answered with its invoke response."""
        raw = await request.body()
        return await run_in_threadpool(
            handle_messages, hub, raw, request.headers.get("authorization")
        )

    @router.post("/webhook", summary="Teams outgoing webhook")
    async def webhook(request: Request) -> Response:
        """A channel message @mentioning the outgoing webhook: answered with the ticket number
        (Teams waits 5 s). ``?tenant=<slug>`` names the tenant; else the signing secret does."""
        raw = await request.body()
        return await run_in_threadpool(
            handle_webhook,
            hub,
            raw,
            request.headers.get("authorization"),
            request.query_params.get("tenant"),
        )

    return router
