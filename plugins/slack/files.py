"""Files shared with a message: downloaded with the bot token and handed to intake.

Only Slack's file host is contacted (or, when the operator allows vendor URL overrides, the
tenant's API host standing in for Slack), never an arbitrary URL from a payload, and only over
the egress policy's pinned connections; files over the hub's size limit are skipped before
download and noted on the ticket by core's usual "Attachments not kept" note.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlparse

import httpx

from core.api import EgressRefused, InboundAttachment, read_capped
from plugins.slack.context import Ctx
from plugins.slack.settings import api_base

log = logging.getLogger(__name__)
SLACK_FILE_HOSTS = ("files.slack.com",)
MAX_FILES = 10


def _allowed(ctx: Ctx, url: str) -> bool:
    parts = urlparse(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host in SLACK_FILE_HOSTS:
        return True
    if not ctx.hub.egress.vendor_override:
        return False
    # A Slack-compatible endpoint the operator let the tenant use serves its own files.
    return host == urlparse(api_base(ctx.config.get("api_base_url"))).hostname


def attachments(ctx: Ctx, event: dict[str, Any]) -> tuple[list[InboundAttachment], list[str]]:
    """The message's files as attachments, and the names of those not fetched (with why)."""
    out: list[InboundAttachment] = []
    skipped: list[str] = []
    limit = ctx.hub.attachment_policy.max_bytes
    for item in (event.get("files") or [])[:MAX_FILES]:
        name = str(item.get("name") or item.get("title") or "file")
        url = item.get("url_private_download") or item.get("url_private") or ""
        if not url or not _allowed(ctx, url):
            skipped.append(f"{name}: not on Slack's file host")
            continue
        if int(item.get("size") or 0) > limit:
            skipped.append(f"{name}: larger than {limit} bytes")
            continue
        try:
            with (
                httpx.Client(
                    transport=ctx.hub.egress.httpx_transport(),
                    trust_env=False,
                    timeout=15,
                    follow_redirects=False,
                ) as http,
                http.stream(
                    "GET", url, headers={"Authorization": f"Bearer {ctx.config.get('bot_token')}"}
                ) as resp,
            ):
                resp.raise_for_status()
                data = read_capped(resp.iter_bytes(), limit)
        except (httpx.HTTPError, ValueError, EgressRefused) as exc:
            log.info("slack file %s not fetched: %s", item.get("id"), type(exc).__name__)
            skipped.append(f"{name}: could not be downloaded")
            continue
        out.append(
            InboundAttachment(
                file_name=name,
                data=data,
                content_type=str(item.get("mimetype") or "application/octet-stream"),
            )
        )
    return out, skipped
