"""Held attachments (quarantine) and the tenant's scanner-down policy."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from hub.api.schemas.attachments import AttachmentPublic
from hub.api.schemas.common import Strict


class HeldAttachmentPublic(AttachmentPublic):
    """A held file with its ticket's subject."""

    ticket_subject: str = ""


class ScanPolicyPublic(BaseModel):
    """``when_down``: ``refuse`` (503 / SMTP 451) or ``hold`` (kept, not downloadable, until a
    rescan); ``scanning``: what scans files."""

    when_down: Literal["refuse", "hold"]
    scanning: str


class ScanPolicyUpdate(Strict):
    when_down: Literal["refuse", "hold"]
