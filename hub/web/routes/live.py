"""The live stream and the in-app notifications."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from core.models import Notification
from core.notifications import inbox
from hub.api.deps import HubDep, ObjectId, SessionDep
from hub.web.i18n import N_
from hub.web.live import event_stream
from hub.web.render import redirect, render
from hub.web.session import PageUser, PostUser, SignInRequired, page_user

router = APIRouter()


@router.get("/events", response_model=None)
def events(request: Request, hub: HubDep, ticket: int | None = None) -> Response:
    """Server-sent events: the user's live state whenever it changes (pushed, never polled);
    with ``ticket`` (a ticket page), staff also receive who else is on it and who is typing.

    The user is read in a short session of its own: a request-scoped session would hold a
    database connection for the whole life of the stream."""
    try:
        with hub.read_session() as session:
            me = page_user(request, hub, session)
    except SignInRequired:
        return Response(status_code=204)  # 204 tells EventSource to stop reconnecting
    return event_stream(request, hub, me.actor, ticket)


def _recent(session: SessionDep, me: PageUser) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(
                Notification.tenant_id == me.actor.tenant_id,
                Notification.user_id == me.actor.user_id,
            )
            .order_by(Notification.id.desc())
            .limit(50)
        )
    )


@router.get("/notifications", response_class=HTMLResponse)
def notifications(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    """The user's latest notifications, unread first marked as such."""
    return render(request, session, me, "notifications.html", items=_recent(session, me))


@router.get("/notifications/menu", response_class=HTMLResponse)
def notifications_menu(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    """The unread notifications as a fragment, for the header's live panel."""
    items = [n for n in _recent(session, me)[:10] if n.read_at is None]
    return render(request, session, me, "_notifications.html", items=items)


@router.post("/notifications/read", response_model=None)
def mark_read(me: PostUser, session: SessionDep) -> Response:
    """Mark every notification read."""
    inbox.mark_all_read(session, me.actor)
    session.commit()
    return redirect("/notifications", flash=N_("All notifications are marked read."))


@router.post("/notifications/{notification_id}/read", response_model=None)
def mark_one_read(notification_id: ObjectId, me: PostUser, session: SessionDep) -> Response:
    """Mark one notification read (another person's is a 404)."""
    inbox.mark_read(session, me.actor, notification_id)
    session.commit()
    return redirect("/notifications", flash=N_("Marked read."))
