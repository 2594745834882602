"""``POST /plugins/pagerduty/webhook``: PagerDuty v3 webhooks, signed per tenant.

Which tenant: ``?tenant=<slug or id>`` names it (then only its secret is tried, and a tenant
without the plugin gets 404); without it, the signature is checked against the webhook secret of
every tenant that has the plugin on, and the tenant whose secret matches owns the event. An event
whose ``occurred_at`` is more than five minutes off is refused (400): a signed body replayed later.
"""

from __future__ import annotations

import logging
import uuid

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from core.api import HubContext, Tenant, freshness_problem
from plugins.pagerduty import client, payloads, signature, webhooks
from plugins.pagerduty.settings import load

log = logging.getLogger(__name__)
MAX_BODY = 512 * 1024
PLUGIN = "pagerduty"


def tenant_from_hint(hub: HubContext, hint: str) -> uuid.UUID | None:
    """The tenant a ``?tenant=`` value names (slug or id), or None."""
    with hub.session() as s:
        try:
            return s.scalar(select(Tenant.id).where(Tenant.id == uuid.UUID(hint)))
        except ValueError:
            return s.scalar(select(Tenant.id).where(Tenant.slug == hint.strip().lower()))


def handle(hub: HubContext, body: bytes, header: str | None, hint: str | None) -> dict[str, str]:
    """Authenticate the request to a tenant, then hand the event over."""
    configs = hub.enabled_configs(PLUGIN)
    if hint is not None:
        tenant_id = tenant_from_hint(hub, hint)
        configs = [c for c in configs if c.tenant_id == tenant_id]
    if not configs:
        raise HTTPException(404, "not found")
    owner = next(
        (c for c in configs if signature.verify(c.get("webhook_secret") or "", body, header)), None
    )
    if owner is None:
        raise HTTPException(401, "signature does not match")
    try:
        event = payloads.parse(body)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    stale = freshness_problem(event.sent_at)
    if stale is not None:
        # A signed event replayed later (or a far-off clock): refused so the sender sees it.
        log.warning(
            "pagerduty webhook %s for tenant %s refused: %s", event.id, owner.tenant_id, stale
        )
        raise HTTPException(400, stale)
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

    @router.post("/webhook")
    async def webhook(request: Request, tenant: str | None = None) -> dict[str, str]:
        """Receive a signed v3 webhook; internal notes for acknowledged, reassigned, resolved."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            raise HTTPException(413, "body too large")
        body = await request.body()
        if len(body) > MAX_BODY:
            raise HTTPException(413, "body too large")
        header = request.headers.get("x-pagerduty-signature")
        return await run_in_threadpool(handle, hub, body, header, tenant)

    return router
