"""``POST /plugins/slack/events``: the one request URL for events, interactivity and commands."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from core.api import HubContext
from plugins.slack.payloads import ignored_reason, parse_body, team_of
from plugins.slack.service import PLUGIN, SlackService, service_for, verify

log = logging.getLogger(__name__)


def _json(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _header(text: str) -> str:
    return re.sub(r"[^\x20-\x7e]", "?", text)[:200]


def handle(svc: SlackService, raw: bytes, headers: dict[str, str]) -> Response:
    """Resolve the workspace's tenant, verify with its secret, let its Bolt app acknowledge."""
    hub = svc.hub
    body = parse_body(raw, headers.get("content-type", ""))
    if not body:
        return _json(400, "the body is not a Slack request (JSON, form or payload=<json>)")
    if body.get("type") == "url_verification":
        # Sent once when the URL is configured, without a team: any tenant's secret may vouch.
        if any(verify(cfg, raw, headers) for cfg in hub.enabled_configs(PLUGIN)):
            return JSONResponse({"challenge": body.get("challenge", "")})
        return _json(401, "invalid Slack signature")
    if body.get("ssl_check"):
        return Response(status_code=200)
    team = team_of(body)
    tenant_id = hub.resolve_tenant(PLUGIN, team) if team else None
    if tenant_id is None:
        return _json(404, "no tenant has Slack enabled for this workspace")
    cfg = svc.config(tenant_id)
    if cfg is None:
        return _json(404, "no tenant has Slack enabled for this workspace")
    if not verify(cfg, raw, headers):
        return _json(401, "invalid Slack signature")
    reason = ignored_reason(body, cfg.state.get("bot_user_id"), cfg.state.get("bot_id"))
    if reason is not None:
        # Acknowledged (or Slack retries), logged with why, and the reason in a header.
        log.info("slack request ignored for tenant %s: %s", tenant_id, reason)
        return Response(status_code=200, headers={"X-Hub-Ignored": _header(reason)})
    resp = svc.dispatch(tenant_id, cfg, raw, headers)
    if resp.status == 404:
        # Bolt's "unhandled request": an event we do not listen to. Acknowledge it, or Slack
        # would retry and eventually turn the subscription off.
        return Response(status_code=200)
    headers_out = {
        k: v
        for k, v in resp.first_headers_without_set_cookie().items()
        if k.lower() != "content-length"
    }
    return Response(content=resp.body, status_code=resp.status, headers=headers_out)


class SlackAck(BaseModel):
    """Bolt's acknowledgement: empty, or a URL verification's ``challenge``, or an interactive
    answer (``response_action``, ``text``, ``blocks``...) as Slack defines them."""

    model_config = ConfigDict(extra="allow")

    challenge: str | None = None
    response_action: str | None = None
    text: str | None = None


def build_router(hub: HubContext) -> APIRouter:
    """The router the hub mounts under ``/plugins/slack``, answering with the hub's Slack
    service."""
    svc = service_for(hub)
    router = APIRouter()

    @router.post(
        "/events",
        summary="Slack request URL (events, interactivity, slash commands)",
        response_model=SlackAck,
    )
    async def events(request: Request) -> Response:
        """Slack's requests for every tenant: 404 for an unknown or disabled workspace,
        401 for a bad or stale signature, else Bolt's acknowledgement within Slack's 3 s."""
        raw = await request.body()
        headers: dict[str, Any] = {k.lower(): v for k, v in request.headers.items()}
        return await run_in_threadpool(handle, svc, raw, headers)

    return router
