"""``POST /plugins/pagerduty/webhook``: PagerDuty v3 webhooks, signed per tenant.

Which tenant: ``?tenant=<slug or id>`` names it (then only its secret is tried, and a tenant
without the plugin gets 404); without it, the signature is checked against the webhook secret of
every tenant that has the plugin on, and the tenant whose secret matches owns the event. An event
whose ``occurred_at`` is more than five minutes off is refused (400): a signed body replayed later.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from core.api import (
    HubContext,
    WebhookOutcome,
    WebhookRefused,
    check_declared_length,
    receive_signed,
    tenant_id_named,
)
from plugins.pagerduty import client, payloads, signature, webhooks
from plugins.pagerduty.settings import load

log = logging.getLogger(__name__)
MAX_BODY = 512 * 1024
PLUGIN = "pagerduty"


def handle(hub: HubContext, body: bytes, header: str | None, hint: str | None) -> dict[str, str]:
    """Authenticate the request to a tenant, then hand the event over."""
    configs = {c.tenant_id: c for c in hub.enabled_configs(PLUGIN)}
    try:
        got = receive_signed(
            body,
            candidates=[(t, c.get("webhook_secret") or "") for t, c in configs.items()],
            verify=lambda secret, raw: signature.verify(secret, raw, header),
            parse=payloads.parse,
            sent_at=lambda event: event.sent_at,
            max_body=MAX_BODY,
            hint=hint,
            resolve_hint=lambda h: tenant_id_named(hub, h),
        )
    except WebhookRefused as exc:
        if exc.stale:
            # A signed event replayed later (or a far-off clock): refused so the sender sees it.
            log.warning("pagerduty webhook for tenant %s refused: %s", exc.tenant_id, exc.detail)
        raise HTTPException(exc.status, exc.detail) from None
    owner, event = configs[got.tenant_id], got.payload
    try:
        outcome = webhooks.receive(hub, owner.tenant_id, load(owner), event)
    except client.Retryable as exc:
        log.warning("pagerduty webhook %s: %s", event.id, exc)
        raise HTTPException(
            503, "PagerDuty's REST API is unavailable; deliver again later"
        ) from None
    log.info(
        "pagerduty webhook %s (%s) for tenant %s: %s",
        event.id,
        event.type,
        owner.tenant_id,
        outcome,
    )
    return {"status": outcome}


def build_router(hub: HubContext) -> APIRouter:
    """The plugin's router (mounted under ``/plugins/pagerduty``)."""
    router = APIRouter()

    @router.post("/webhook", response_model=WebhookOutcome)
    async def webhook(request: Request, tenant: str | None = None) -> dict[str, str]:
        """Receive a signed v3 webhook; internal notes for acknowledged, reassigned, resolved."""
        try:
            check_declared_length(request.headers.get("content-length"), MAX_BODY)
        except WebhookRefused as exc:
            raise HTTPException(exc.status, exc.detail) from None
        body = await request.body()
        header = request.headers.get("x-pagerduty-signature")
        return await run_in_threadpool(handle, hub, body, header, tenant)

    return router
