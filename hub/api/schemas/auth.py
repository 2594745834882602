"""Signing in to the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from hub.api.schemas.common import Strict


class SessionCreate(Strict):
    """A sign-in: it creates an auth session (the answer sets its cookies)."""

    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    tenant: str | None = Field(default=None, max_length=63)


class SessionPublic(BaseModel):
    """A signed-in session: who, in which tenant, with which role; the CSRF token for writes
    (the session itself is in the ``hub_session`` cookie)."""

    user_id: int
    email: str
    tenant: str
    role: str
    csrf_token: str


class TwoFactorStepPublic(BaseModel):
    """The password was right and the account has two-factor: post ``pending`` with a code to
    ``/api/v1/auth/login/two-factor`` within five minutes."""

    two_factor_required: bool
    pending: str


class OkPublic(BaseModel):
    """Done (sign-out, notifications marked read)."""

    ok: bool


class WhoAmIPublic(BaseModel):
    """The caller: who, in which tenant, with which role."""

    user_id: int | None
    email: str
    name: str
    role: str
    tenant_id: str


class NotificationPublic(BaseModel):
    """One in-app notification of the caller."""

    id: int
    ticket_id: int | None
    kind: str
    text: str
    created_at: datetime
    read: bool
