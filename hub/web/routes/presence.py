"""Presence and typing on a ticket page: a heartbeat from each staff viewer, published on the
live bus (never written to the database) and shown to the other staff on that ticket."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response

from hub.api.deps import HubDep, ObjectId
from hub.live_bus import bus_of
from hub.web.session import PostUser, staff_only

router = APIRouter()


@router.post("/tickets/{ticket_id}/presence", response_model=None, status_code=204)
def presence(
    ticket_id: ObjectId,
    me: PostUser,
    hub: HubDep,
    typing: Annotated[bool, Form()] = False,
    leave: Annotated[bool, Form()] = False,
) -> Response:
    """The signed-in agent is on this ticket's page (sent about every 20 s), typing a reply
    (``typing``, pinged while keys are pressed) or gone (``leave``). Staff only (404 otherwise)."""
    staff_only(me)
    fact = {
        "k": "p",
        "tenant": str(me.actor.tenant_id),
        "ticket": ticket_id,
        "user": me.actor.user_id,
        "name": me.actor.name or me.actor.email,
        "typing": typing and not leave,
        "leave": leave,
    }
    bus_of(hub).publish([fact])
    return Response(status_code=204)
