"""``POST /plugins/jira/webhook``: Jira webhooks signed with ``X-Hub-Signature: sha256=...``.

Which tenant: ``?tenant=<slug or id>`` names it (then only its secret is tried, and a tenant
without the plugin gets 404); without it, the signature is checked against the webhook secret of
every tenant that has the plugin on. A body whose ``timestamp`` is more than five minutes off
is refused (400): a signed body replayed later. Deliveries are deduplicated on
``X-Atlassian-Webhook-Identifier`` and on a hash of the signed body (the same content under a new
delivery id is applied once).
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
from plugins.jira import client, payloads, signature, webhooks
from plugins.jira.settings import load

log = logging.getLogger(__name__)
MAX_BODY = 2 * 1024 * 1024
PLUGIN = "jira"


def handle(
    hub: HubContext, body: bytes, headers: dict[str, str], hint: str | None
) -> dict[str, str]:
    """Authenticate the request to a tenant, then hand the delivery over."""
    configs = {c.tenant_id: c for c in hub.enabled_configs(PLUGIN)}
    header = headers.get("x-hub-signature")
    try:
        got = receive_signed(
            body,
            candidates=[(t, c.get("webhook_secret") or "") for t, c in configs.items()],
            verify=lambda secret, raw: signature.verify(secret, raw, header),
            parse=payloads.parse,
            sent_at=lambda hook: hook.sent_at,
            max_body=MAX_BODY,
            hint=hint,
            resolve_hint=lambda h: tenant_id_named(hub, h),
        )
    except WebhookRefused as exc:
        if exc.stale:
            # A signed body replayed later: refused so that the sender sees it, and logged.
            log.warning(
                "jira webhook %s for tenant %s refused: %s",
                headers.get("x-atlassian-webhook-identifier"),
                exc.tenant_id,
                exc.detail,
            )
        raise HTTPException(exc.status, exc.detail) from None
    owner, hook = configs[got.tenant_id], got.payload
    delivery = headers.get("x-atlassian-webhook-identifier") or got.content_key
    settings = load(owner)
    own_ids = set(owner.state.get("api_user_ids") or [])
    if settings.user:
        own_ids.add(settings.user)
    try:
        hook = webhooks.with_issue_key(hub, settings, hook)
    except client.Retryable as exc:
        log.warning("jira webhook %s: the issue could not be fetched now: %s", delivery, exc)
        raise HTTPException(503, "Jira could not be reached; send the delivery again") from None
    outcome = webhooks.receive(
        hub, owner.tenant_id, settings, own_ids, hook, delivery, content_key=got.content_key
    )
    log.info(
        "jira webhook %s (%s %s) for tenant %s: %s",
        delivery,
        hook.event,
        hook.issue_key,
        owner.tenant_id,
        outcome,
    )
    return {"status": outcome}


def build_router(hub: HubContext) -> APIRouter:
    """The plugin's router (mounted under ``/plugins/jira``)."""
    router = APIRouter()

    @router.post("/webhook", response_model=WebhookOutcome)
    async def webhook(request: Request, tenant: str | None = None) -> dict[str, str]:
        """Receive a signed Jira webhook: status changes and comments sync onto the ticket."""
        try:
            check_declared_length(request.headers.get("content-length"), MAX_BODY)
        except WebhookRefused as exc:
            raise HTTPException(exc.status, exc.detail) from None
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        return await run_in_threadpool(handle, hub, body, headers, tenant)

    return router
