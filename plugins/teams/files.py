"""Files sent with a message to the bot, downloaded and handed to intake.

Two kinds exist in Teams: a file shared in a personal chat
(``application/vnd.microsoft.teams.file.download.info``, a pre-authorised ``downloadUrl`` on
SharePoint/OneDrive) and an inline image (``image/*``, a ``contentUrl`` on the Bot Connector that
needs the bot token). Only those hosts are contacted, never an arbitrary URL from a payload; the
bot token goes only to the activity's service host (which the verified token vouches for). Files
over the hub's size limit are cut off while downloading and named in the message text.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlparse

import httpx

from core.api import (
    STRICT,
    EgressPolicy,
    EgressRefused,
    InboundAttachment,
    PluginConfig,
    read_capped,
)
from plugins.teams.connector import TOKENS, ConnectorError, http

log = logging.getLogger(__name__)
FILE_INFO = "application/vnd.microsoft.teams.file.download.info"
FILE_HOSTS = (".sharepoint.com", ".sharepoint-df.com")  # where Teams keeps shared files
MAX_FILES = 10


def _host(url: str) -> str:
    return (urlparse(url).hostname or "").lower()


def _download(url: str, headers: dict[str, str], limit: int, egress: EgressPolicy) -> bytes:
    with http(egress).stream(
        "GET", url, headers=headers, timeout=15, follow_redirects=False
    ) as resp:
        resp.raise_for_status()
        return read_capped(resp.iter_bytes(), limit)


def attachments(
    cfg: PluginConfig, activity: dict[str, Any], limit: int, egress: EgressPolicy = STRICT
) -> tuple[list[InboundAttachment], list[str]]:
    """The message's files as attachments, and those not kept (with why)."""
    out: list[InboundAttachment] = []
    skipped: list[str] = []
    service_host = _host(str(activity.get("serviceUrl") or ""))
    for n, item in enumerate((activity.get("attachments") or [])[:MAX_FILES]):
        kind = str(item.get("contentType") or "")
        content = item.get("content") if isinstance(item.get("content"), dict) else {}
        if kind == FILE_INFO:
            url = str((content or {}).get("downloadUrl") or "")
            name = str(item.get("name") or "file")
            mime = "application/octet-stream"
        elif kind.startswith("image/") and item.get("contentUrl"):
            url = str(item["contentUrl"])
            name = str(item.get("name") or f"image-{n + 1}.{kind.split('/', 1)[1].split(';')[0]}")
            mime = kind
        else:
            continue  # cards, the text/html copy of the message, ...
        host = _host(url)
        on_service = bool(service_host) and host == service_host
        if not on_service and not (kind == FILE_INFO and host.endswith(FILE_HOSTS)):
            skipped.append(f"{name}: not on a Teams file host")
            continue
        headers: dict[str, str] = {}
        try:
            egress.check_url(url)
        except (EgressRefused, OSError):
            skipped.append(f"{name}: could not be downloaded")
            continue
        if kind != FILE_INFO:  # shared files' URLs are pre-authorised: no token goes there
            try:
                headers["Authorization"] = f"Bearer {TOKENS.token(cfg, egress)}"
            except ConnectorError:
                skipped.append(f"{name}: the bot could not sign in to fetch it")
                continue
        try:
            data = _download(url, headers, limit, egress)
        except (httpx.HTTPError, ValueError, EgressRefused) as exc:
            log.info("teams file not fetched: %s", type(exc).__name__)
            skipped.append(
                f"{name}: could not be downloaded (larger than {limit} bytes?)"
                if isinstance(exc, ValueError)
                else f"{name}: could not be downloaded"
            )
            continue
        out.append(InboundAttachment(file_name=name, content_type=mime, data=data))
    return out, skipped
