"""Attachments of a ticket (uploaded through the API, the console or a channel)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class AttachmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int
    file_name: str
    file_size: int | None
    mime_type: str | None
    created_at: datetime
    uploaded_by: int
    is_internal: bool
    # The malware scan: clean, infected or not_scanned, and what it found.
    scan_status: str = "not_scanned"
    scan_signature: str = ""
    # Why the file is not served (None: it is): "infected" (quarantined) or "unscanned".
    held: str | None = None
    # Empty while the file is held.
    download_url: str = ""
