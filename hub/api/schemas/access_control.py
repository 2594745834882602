"""Offboarding, the caller's account and sessions, API tokens and the API rate limit."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.permissions import ROLES
from hub.api.schemas.common import Strict, UtcDateTime

MAX_ID = 2**63 - 1


class HandoverCreate(Strict):
    """Deactivate or remove a member: their open tickets go to ``reassign_to`` (an active agent
    or admin of the tenant) or, when it is null, are unassigned."""

    reassign_to: int | None = Field(default=None, ge=1, le=MAX_ID)


class HandoverPublic(BaseModel):
    user_id: int
    active: bool
    member: bool
    tickets: int
    reassigned_to: int | None


class MemberUpdate(Strict):
    role: str = Field(pattern="^(" + "|".join(ROLES) + ")$")


class MemberPublic(BaseModel):
    id: int
    email: str
    full_name: str
    role: str
    available: bool
    active: bool


class MeUpdate(Strict):
    full_name: str = Field(min_length=1, max_length=200)


class MePublic(BaseModel):
    user_id: int
    email: str
    name: str
    role: str


class PasswordChange(Strict):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class PasswordChanged(BaseModel):
    other_sessions_ended: int


class SessionPublic(BaseModel):
    """A live console session of the caller (``key`` is a public handle, not the cookie)."""

    model_config = ConfigDict(from_attributes=True)

    key: str
    device: str
    user_agent: str
    ip: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


class SessionsRevoke(Strict):
    """``others``: every session but this one; ``everywhere``: every session, this one too."""

    which: Literal["others", "everywhere"] = "others"


class SessionsRevoked(BaseModel):
    ended: int


class TokenCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    scope: Literal["read", "write", "admin"] = "read"
    expires_at: UtcDateTime | None = None


class TokenPublic(BaseModel):
    """A token as lists show it: never the token itself, nor its hash."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    email: str
    name: str
    prefix: str
    scope: str
    state: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    """The answer to a creation: the only time ``token`` is shown."""

    token: str


class RateLimitPublic(BaseModel):
    per_token: str
    tenant_rate: str | None
    default: str
    anonymous: str


class RateLimitUpdate(Strict):
    """``per_token``: e.g. ``600/minute``; null goes back to the hub's default."""

    per_token: str | None = Field(default=None, max_length=30)
