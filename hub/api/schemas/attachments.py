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
    download_url: str = ""
