"""``POST /plugins/teams/messages`` (Bot Framework) and ``POST /plugins/teams/webhook``
(Teams outgoing webhook)."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any, Literal

import jwt
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from core.api import HubContext, PluginConfig, WebhookRefused, receive_signed, tenant_id_named
from plugins.teams.auth import AuthError, OpenIdKeys, bearer, verify_connector_token, webhook_valid
from plugins.teams.intake import handle_activity, ingest_message, webhook_reply
from plugins.teams.payloads import app_id_of
from plugins.teams.settings import DEFAULT_OPENID_METADATA_URL

log = logging.getLogger(__name__)
PLUGIN = "teams"
KEYS = OpenIdKeys()
MAX_BODY = 1024 * 1024


class ActivityAnswer(BaseModel):
    """An ``invoke`` activity's answer (an Adaptive Card action's response); other activities
    are answered 200 with an empty body."""

    model_config = ConfigDict(extra="allow")

    status: int | None = None
    body: Any = None


class WebhookReply(BaseModel):
    """The outgoing webhook's answer, shown in the channel: the ticket number and link."""

    type: Literal["message"]
    text: str


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


def handle_webhook(
    hub: HubContext, raw: bytes, authorization: str | None, slug: str | None
) -> Response:
    """Verify the HMAC with the owning tenant's secret, store the message, name the ticket."""
    try:
        # The secret that signs the body identifies the tenant; two tenants matching is refused,
        # and nobody is told whether any tenant has the plugin on.
        got = receive_signed(
            raw,
            candidates=[
                (c.tenant_id, str(c.secrets.get("outgoing_webhook_secret") or ""))
                for c in hub.enabled_configs(PLUGIN)
            ],
            verify=lambda secret, body: webhook_valid(secret, body, authorization),
            parse=_parse,
            max_body=MAX_BODY,
            hint=slug,
            resolve_hint=lambda h: tenant_id_named(hub, h),
            unique=True,
            unnamed_unknown=401,
        )
    except WebhookRefused as exc:
        if exc.status == 404:
            return _json(404, "no tenant has Teams enabled here")
        if exc.status == 401:
            return _json(401, "invalid outgoing webhook signature")
        return _json(exc.status, exc.detail)
    cfg = _enabled_config(hub, got.tenant_id)
    if cfg is None:  # turned off meanwhile
        return _json(404, "no tenant has Teams enabled here")
    activity = got.payload
    if activity is None or activity.get("type") != "message":
        return _json(400, "the body is not a Teams message activity")
    done = ingest_message(hub, cfg, activity, via="webhook")
    text = webhook_reply(done[0] if done else None)
    return JSONResponse({"type": "message", "text": text})


def build_router(hub: HubContext) -> APIRouter:
    """The router the hub mounts under ``/plugins/teams``."""
    router = APIRouter()

    @router.post(
        "/messages", summary="Bot Framework messaging endpoint", response_model=ActivityAnswer
    )
    async def messages(request: Request) -> Response:
        """Activities from the Bot Connector: 401 for a bad token, 404 for a bot no tenant has
        enabled; an ``invoke`` is answered with its invoke response."""
        raw = await request.body()
        return await run_in_threadpool(
            handle_messages, hub, raw, request.headers.get("authorization")
        )

    @router.post("/webhook", summary="Teams outgoing webhook", response_model=WebhookReply)
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
