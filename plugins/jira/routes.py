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
import uuid

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from core.api import HubContext, Tenant, body_key, freshness_problem
from plugins.jira import payloads, signature, webhooks
from plugins.jira.settings import load

log = logging.getLogger(__name__)
MAX_BODY = 2 * 1024 * 1024
PLUGIN = "jira"


def tenant_from_hint(hub: HubContext, hint: str) -> uuid.UUID | None:
    """The tenant a ``?tenant=`` value names (slug or id), or None."""
    with hub.session() as s:
        try:
            return s.scalar(select(Tenant.id).where(Tenant.id == uuid.UUID(hint)))
        except ValueError:
            return s.scalar(select(Tenant.id).where(Tenant.slug == hint.strip().lower()))


def handle(
    hub: HubContext, body: bytes, headers: dict[str, str], hint: str | None
) -> dict[str, str]:
    """Authenticate the request to a tenant, then hand the delivery over."""
    configs = hub.enabled_configs(PLUGIN)
    if hint is not None:
        tenant_id = tenant_from_hint(hub, hint)
        configs = [c for c in configs if c.tenant_id == tenant_id]
    if not configs:
        raise HTTPException(404, "not found")
    header = headers.get("x-hub-signature")
    owner = next(
        (c for c in configs if signature.verify(c.get("webhook_secret") or "", body, header)), None
    )
    if owner is None:
        raise HTTPException(401, "signature does not match")
    try:
        hook = payloads.parse(body)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    stale = freshness_problem(hook.sent_at)
    if stale is not None:
        # A signed body replayed later: refused so that the sender sees it, and logged.
        log.warning(
            "jira webhook %s for tenant %s refused: %s",
            headers.get("x-atlassian-webhook-identifier"),
            owner.tenant_id,
            stale,
        )
        raise HTTPException(400, stale)
    content = body_key(body)
    delivery = headers.get("x-atlassian-webhook-identifier") or content
    settings = load(owner)
    own_ids = set(owner.state.get("api_user_ids") or [])
    if settings.user:
        own_ids.add(settings.user)
    outcome = webhooks.receive(
        hub, owner.tenant_id, settings, own_ids, hook, delivery, content_key=content
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

    @router.post("/webhook")
    async def webhook(request: Request, tenant: str | None = None) -> dict[str, str]:
        """Receive a signed Jira webhook: status changes and comments sync onto the ticket."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            raise HTTPException(413, "body too large")
        body = await request.body()
        if len(body) > MAX_BODY:
            raise HTTPException(413, "body too large")
        headers = {k.lower(): v for k, v in request.headers.items()}
        return await run_in_threadpool(handle, hub, body, headers, tenant)

    return router
