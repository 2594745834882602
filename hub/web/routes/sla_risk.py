"""The SLA page's at-risk share (admins): a ticket is shown "At risk" once less than this share
of its target is left (``core.sla.countdown``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from core.errors import Invalid
from core.sla import countdown as sla_countdown
from hub.api.deps import SessionDep
from hub.web.i18n import N_
from hub.web.render import redirect
from hub.web.routes.sla_admin import list_page
from hub.web.session import PostUser, admin_only

router = APIRouter()


@router.post("/admin/sla/settings/at-risk", response_model=None)
def set_at_risk(
    request: Request,
    me: PostUser,
    session: SessionDep,
    percent: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Set the share of a target left under which tickets are at risk (1 to 99 %)."""
    admin_only(me)
    raw = percent.strip().rstrip("%").strip()
    try:
        if not raw.isdigit():
            raise Invalid("the at-risk share must be a whole number from 1 to 99", field="percent")
        value = sla_countdown.set_at_risk_percent(session, me.actor, int(raw))
    except Invalid as exc:
        session.rollback()
        return list_page(request, me, session, risk_error=exc, risk_value=percent)
    session.commit()
    return redirect(
        "/admin/sla",
        flash=N_("Tickets are at risk under %(value)s%% of a target left."),
        args={"value": value},
    )
