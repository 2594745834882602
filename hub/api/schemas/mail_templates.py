"""Mail templates: a kind's sources and variables, a save, a preview, the tenant's signature."""

from __future__ import annotations

from pydantic import BaseModel, Field

from hub.api.schemas.common import Strict


class MailTemplatePublic(BaseModel):
    kind: str
    title: str
    subject: str
    text_body: str
    html_body: str | None
    customised: bool
    variables: dict[str, str]


class MailTemplateUpdate(Strict):
    subject: str = Field(min_length=1, max_length=500)
    text_body: str = Field(min_length=1, max_length=20_000)
    html_body: str | None = Field(default=None, max_length=20_000)


class MailPreviewRequest(Strict):
    """Preview the stored sources (or these, unsaved) for one of the tenant's tickets."""

    ticket_id: int | None = Field(default=None, ge=1)
    subject: str | None = Field(default=None, max_length=500)
    text_body: str | None = Field(default=None, max_length=20_000)
    html_body: str | None = Field(default=None, max_length=20_000)


class MailPreviewPublic(BaseModel):
    subject: str
    text: str
    html: str


class SignatureUpdate(Strict):
    signature: str = Field(default="", max_length=2000)


class SignaturePublic(BaseModel):
    signature: str
