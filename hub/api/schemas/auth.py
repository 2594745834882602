"""Signing in to the API."""

from __future__ import annotations

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
