"""Invitations, password resets and sign-in links."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from core.permissions import ROLES
from core.services.links import MAX_TOKEN_LENGTH
from hub.api.schemas.common import Strict


class InvitationCreate(Strict):
    """Invite an address with a role."""

    email: str = Field(min_length=3, max_length=254)
    role: str = Field(pattern="^(" + "|".join(ROLES) + ")$")


class InvitationPublic(BaseModel):
    """A pending invitation. ``sent`` and ``link`` only in the answer that made its link:
    ``link`` only when no mail could be sent (the admin passes it on)."""

    id: int
    email: str
    role: str
    created_at: datetime
    expires_at: datetime
    expired: bool
    sent: bool | None = None
    link: str | None = None


class InvitationCancelled(BaseModel):
    id: int
    cancelled: bool


class LinkRequest(Strict):
    """Ask for a password-reset or sign-in link by mail."""

    email: str = Field(min_length=1, max_length=254)


class LinkRequested(BaseModel):
    """The same answer for every address."""

    detail: str


class PasswordResetConfirm(Strict):
    token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH)
    password: str = Field(min_length=1, max_length=1000)


class PasswordChanged(BaseModel):
    ok: bool
