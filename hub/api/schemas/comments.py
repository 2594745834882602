"""Comments on a ticket: public replies and internal notes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hub.api.schemas.common import Strict


class CommentCreate(Strict):
    comment: str = Field(min_length=1, max_length=100_000)
    is_internal: bool = False


class CommentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int
    user_id: int
    comment: str
    is_internal: bool
    created_at: datetime
    channel: str
    # The channel could not authenticate the sender (mail without aligned SPF/DKIM, or a
    # staff address that did not reply through its signed reply address).
    unverified_sender: bool = False
