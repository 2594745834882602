"""Admin endpoints of the email plugin (``/plugins/email``): parked messages, recorded bounces,
and the tenant's failing addresses (listed, cleared)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from core.api import (
    Actor,
    Forbidden,
    HubContext,
    NotFound,
    Unauthenticated,
    authenticate_token,
    require_admin,
)
from plugins.email import failing
from plugins.email.models import Bounce, FailingAddress, ParkedMessage


class ClearAddress(BaseModel):
    address: str = Field(min_length=3, max_length=254)


class FailingPublic(BaseModel):
    """An address this tenant sends no mail to since it bounced."""

    address: str
    bounces: int
    last_bounce_at: datetime | None


class ClearedPublic(BaseModel):
    address: str
    cleared: bool


class ParkedPublic(BaseModel):
    """A message that could not become a ticket, and why."""

    id: int
    source: str
    uid: int | None
    message_id: str
    subject: str
    reason: str
    created_at: datetime


class ParkedRawPublic(BaseModel):
    """A parked message's raw bytes, decoded as UTF-8 (undecodable bytes replaced)."""

    id: int
    raw: str


class BouncePublic(BaseModel):
    """A bounce: the addresses that failed and the users marked undeliverable."""

    id: int
    recipients: list[Any]
    marked: list[Any]
    created_at: datetime


def _admin(hub: HubContext, authorization: str | None) -> Actor:
    """The bearer token's actor, an admin of a tenant that has the plugin on (else 404)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("use 'Authorization: Bearer <token>'")
    with hub.session() as s:
        who = authenticate_token(s, token.strip())
    if who is None:
        raise Unauthenticated("the token is unknown, expired or revoked")
    if who.scope != "admin":
        raise Forbidden(f"this token's scope ({who.scope}) does not reach admin routes")
    actor = Actor(
        tenant_id=who.tenant_id, user_id=who.user_id, role=who.role, email=who.email, name=who.name
    )
    if not hub.config(actor.tenant_id, "email").enabled:
        raise NotFound("the email plugin is not enabled for this tenant")
    require_admin(actor, "see parked mail")
    return actor


def build_router(hub: HubContext) -> APIRouter:
    """The plugin's router; the hub mounts it under ``/plugins/email``."""
    api = APIRouter()

    @api.get("/parked/", response_model=list[ParkedPublic])
    def parked(
        authorization: Annotated[str | None, Header()] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        """Messages that could not become tickets, newest first, with the reason (admins)."""
        actor = _admin(hub, authorization)
        with hub.session() as s:
            rows = s.scalars(
                select(ParkedMessage)
                .where(ParkedMessage.tenant_id == actor.tenant_id)
                .order_by(ParkedMessage.id.desc())
                .limit(limit)
            )
            return [
                {
                    "id": r.id,
                    "source": r.source,
                    "uid": r.uid,
                    "message_id": r.message_id,
                    "subject": r.subject,
                    "reason": r.reason,
                    "created_at": r.created_at,
                }
                for r in rows
            ]

    @api.get("/parked/{parked_id}/raw", response_model=ParkedRawPublic)
    def parked_raw(
        parked_id: int, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        """The raw bytes of one parked message, as text (for an admin to inspect)."""
        actor = _admin(hub, authorization)
        with hub.session() as s:
            row = s.get(ParkedMessage, parked_id)
            if row is None or row.tenant_id != actor.tenant_id or not row.raw_path:
                raise NotFound(f"parked message {parked_id} not found")
            raw_path = row.raw_path
        data = hub.blob_store.get(raw_path)
        return {"id": parked_id, "raw": data.decode("utf-8", errors="replace")}

    @api.get("/bounces/", response_model=list[BouncePublic])
    def bounces(
        authorization: Annotated[str | None, Header()] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        """Bounces received, with the addresses that failed and the users marked (admins)."""
        actor = _admin(hub, authorization)
        with hub.session() as s:
            rows = s.scalars(
                select(Bounce)
                .where(Bounce.tenant_id == actor.tenant_id)
                .order_by(Bounce.id.desc())
                .limit(limit)
            )
            return [
                {
                    "id": r.id,
                    "recipients": r.recipients,
                    "marked": r.marked,
                    "created_at": r.created_at,
                }
                for r in rows
            ]

    @api.get("/failing/", response_model=list[FailingPublic])
    def failing_addresses(
        authorization: Annotated[str | None, Header()] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        """Addresses no mail goes to from this tenant since they bounced, newest first."""
        actor = _admin(hub, authorization)
        with hub.session() as s:
            rows = s.scalars(
                select(FailingAddress)
                .where(FailingAddress.tenant_id == actor.tenant_id)
                .order_by(FailingAddress.last_bounce_at.desc(), FailingAddress.id.desc())
                .limit(limit)
            )
            return [
                {"address": r.address, "bounces": r.bounces, "last_bounce_at": r.last_bounce_at}
                for r in rows
            ]

    @api.post("/failing/clear/", response_model=ClearedPublic)
    def clear_failing(
        body: ClearAddress, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        """Mail goes to this address again (committed before the answer); 404 when it is not
        failing for this tenant."""
        actor = _admin(hub, authorization)
        with hub.session() as s:
            if not failing.clear(s, actor.tenant_id, body.address):
                raise NotFound(f"{body.address} is not a failing address of this tenant")
        return {"address": body.address.strip().lower(), "cleared": True}

    return api
