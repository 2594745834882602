"""``POST /plugins/hook/messages``: a JSON message signed with ``X-Signature: sha256=<hex>``.

Body: ``{"id": ..., "from": "jane@customer.test", "name": ..., "conversation": ..., "text": ...}``.
A message of a known conversation is a comment on its ticket; a new conversation opens one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from core.api import HubContext, InboundMessage, WebhookRefused, receive_signed

log = logging.getLogger(__name__)
PLUGIN = "hook"
CONVERSATION = "hook_conversation"  # the ref kind that threads a conversation onto its ticket
MAX_BODY = 256 * 1024


def _verify(secret: str, body: bytes, header: str | None) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return bool(secret and header) and hmac.compare_digest(expected, header or "")


def _parse(body: bytes) -> dict[str, Any]:
    data = json.loads(body)
    if not isinstance(data, dict) or not all(data.get(k) for k in ("id", "from", "text")):
        raise ValueError("a message needs id, from and text")
    return data


def handle(hub: HubContext, body: bytes, signature: str | None) -> dict[str, Any]:
    configs = hub.enabled_configs(PLUGIN)
    try:
        got = receive_signed(
            body,
            candidates=[(c.tenant_id, str(c.get("secret") or "")) for c in configs],
            verify=lambda secret, raw: _verify(secret, raw, signature),
            parse=_parse,
            max_body=MAX_BODY,
        )
    except WebhookRefused as exc:
        raise HTTPException(exc.status, exc.detail) from None
    msg, conversation = got.payload, str(got.payload.get("conversation") or got.payload["id"])
    result = hub.ingest(
        got.tenant_id,
        InboundMessage(
            channel=PLUGIN,
            dedupe_key=f"hook:{msg['id']}",
            sender_email=str(msg["from"]),
            sender_name=str(msg.get("name") or ""),
            subject=str(msg["text"])[:80],
            body=str(msg["text"]),
            references=[conversation],
            message_ref=conversation,
            ref_kind=CONVERSATION,
        ),
    )
    log.info("hook message %s: %s #%s", msg["id"], result.outcome, result.ticket_id)
    return {"outcome": result.outcome, "ticket_id": result.ticket_id}


def build_router(hub: HubContext) -> APIRouter:
    router = APIRouter()

    @router.post("/messages")
    async def messages(request: Request) -> dict[str, Any]:
        body = await request.body()
        return await run_in_threadpool(handle, hub, body, request.headers.get("x-signature"))

    return router
