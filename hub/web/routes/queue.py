"""The agent queue: filters, sorting, keyset pages, saved views and bulk actions."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import delete, select

from core.duplicates.service import has_open_flag
from core.errors import HubError, Invalid
from core.groups.service import group_names, groups_of
from core.permissions import Actor
from core.services.merge import bulk_update
from core.services.tickets import (
    RELEVANCE,
    SORTS,
    Changes,
    TicketFilter,
    list_tickets,
    search_matches,
)
from core.sla import countdown as sla_countdown
from core.tags.service import bulk_tag, tags_for
from core.tags.service import usage as tag_usage
from hub.api.deps import HubDep, SessionDep
from hub.web.helpers import staff_members, user_names
from hub.web.i18n import N_
from hub.web.models import SavedView
from hub.web.render import FlashPart, redirect, render
from hub.web.routes.queue_layout import density_of, view_counts
from hub.web.session import PageUser, PostUser, readers_only, staff_only

router = APIRouter()
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
PAGE_SIZE = 50
SORT_LABELS = {
    "-created_at": N_("Newest first"),
    "created_at": N_("Oldest first"),
    "-updated_at": N_("Recently updated"),
    "updated_at": N_("Least recently updated"),
    "sla_due_at": N_("SLA due soonest"),
    "-sla_due_at": N_("SLA due latest"),
    RELEVANCE: N_("Best match (with a search)"),
}
FILTER_KEYS = (
    "status",
    "priority",
    "category",
    "assignee",
    "group",
    "breached",
    "tag",
    "dup",
    "q",
    "sort",
)


def _filter(
    session: SessionDep,
    actor: Actor,
    status: list[str],
    priority: list[str],
    category: list[str],
    assignee: str,
    breached: str,
    q: str,
    tag: list[str] | None = None,
) -> TicketFilter:
    flt = TicketFilter(
        status=[s for s in status if s],
        priority=[p for p in priority if p],
        category=[c for c in category if c],
        q=q.strip() or None,
        tags=[t for value in tag or [] for t in value.split(",") if t.strip()],
    )
    if assignee == "me":
        flt.assigned_to = actor.user_id
    elif assignee == "none":
        flt.unassigned = True
    elif assignee.isdigit():
        flt.assigned_to = int(assignee)
    elif assignee:
        raise Invalid("assignee must be me, none or a user id", field="assignee")
    if breached in ("yes", "no"):
        flt.sla_breached = breached == "yes"
    elif breached == "risk":
        flt.conditions.append(sla_countdown.at_risk_clause(session, actor.tenant_id))
    return flt


def _group_filter(session: SessionDep, actor: Actor, flt: TicketFilter, group: str) -> None:
    """``group``: an agent group id, ``mine`` (the groups I am in) or ``none``."""
    if group == "none":
        flt.no_group = True
    elif group == "mine":
        assert actor.user_id is not None
        flt.group_ids = groups_of(session, actor.tenant_id, actor.user_id)
    elif group.isdigit():
        flt.group_ids = [int(group)]
    elif group:
        raise Invalid("group must be mine, none or a group id", field="group")


def filter_of_query(session: SessionDep, actor: Actor, query: str) -> TicketFilter:
    """The filter a saved view's query string stands for (``Invalid`` when it names a bad value)."""
    params = parse_qs(query)

    def one(key: str) -> str:
        return (params.get(key) or [""])[0]

    flt = _filter(
        session,
        actor,
        params.get("status", []),
        params.get("priority", []),
        params.get("category", []),
        one("assignee"),
        one("breached"),
        one("q"),
        params.get("tag", []),
    )
    _group_filter(session, actor, flt, one("group"))
    if one("dup") == "yes":
        flt.conditions.append(has_open_flag(actor.tenant_id))
    return flt


def _values(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


@router.get("/queue", response_class=HTMLResponse)
def queue(
    request: Request,
    me: PageUser,
    session: SessionDep,
    status: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI query lists
    priority: Annotated[list[str], Query()] = [],  # noqa: B006
    category: Annotated[list[str], Query()] = [],  # noqa: B006
    assignee: Annotated[str, Query(max_length=12)] = "",
    group: Annotated[str, Query(max_length=12)] = "",
    breached: Annotated[str, Query(max_length=4)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    tag: Annotated[list[str], Query(max_length=200)] = [],  # noqa: B006
    sort: Annotated[str, Query(max_length=20)] = "",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    partial: bool = False,
    dup: Annotated[str, Query(max_length=3)] = "",
) -> HTMLResponse:
    """The tenant's tickets, one keyset page at a time: agents and admins act on them,
    managers read them (no bulk actions) and export them. A search is ranked by relevance
    unless another sort is chosen; each row says where it matched."""
    readers_only(me)
    flt = _filter(session, me.actor, status, priority, category, assignee, breached, q, tag)
    _group_filter(session, me.actor, flt, group)
    if dup == "yes":  # likely duplicates (core.duplicates): an open flag on the ticket
        flt.conditions.append(has_open_flag(me.actor.tenant_id))
    if sort not in SORTS and not (sort == RELEVANCE and flt.q):
        sort = RELEVANCE if flt.q else "-created_at"
    search_error = ""
    try:
        rows, next_cursor = list_tickets(
            session, me.actor, flt, sort=sort, limit=PAGE_SIZE, cursor=cursor
        )
    except Invalid as exc:
        if exc.field != "q":
            raise
        rows, next_cursor, search_error, flt.q = [], None, exc.message, None
    matches = search_matches(session, me.actor, flt.q, rows)
    sla = sla_countdown.countdowns(session, me.actor.tenant_id, rows)
    names = user_names(session, {t.created_by for t in rows} | {t.assigned_to for t in rows})
    filters = {
        "status": status,
        "priority": priority,
        "category": category,
        "assignee": assignee,
        "group": group,
        "breached": breached,
        "tag": list(flt.tags),
        "dup": dup,
        "q": q,
        "sort": sort,
    }
    query = urlencode(
        [
            (k, v)
            for k in FILTER_KEYS
            for v in (filters[k] if isinstance(filters[k], list) else [filters[k]])
            if v
        ],
        doseq=True,
    )
    ctx: dict[str, Any] = {
        "tickets": rows,
        "sla": sla,
        "ticket_tags": tags_for(session, [t.id for t in rows]),
        "matches": matches,
        "search_error": search_error,
        "names": names,
        "next_cursor": next_cursor,
        "filters": filters,
        "query": query,
        "paged": bool(cursor),
        # The export takes the same filters; it lists every match, oldest first.
        "export_query": urlencode(
            [
                (k, v)
                for k in FILTER_KEYS
                if k not in ("sort", "dup")
                for v in _values(filters[k])
                if v
            ],
            doseq=True,
        ),
    }
    if partial:
        return render(request, session, me, "_queue_rows.html", **ctx)
    views = list(
        session.scalars(
            select(SavedView)
            .where(SavedView.tenant_id == me.actor.tenant_id, SavedView.user_id == me.actor.user_id)
            .order_by(SavedView.name)
        )
    )
    return render(
        request,
        session,
        me,
        "queue.html",
        staff=staff_members(session, me.actor.tenant_id),
        groups=group_names(session, me.actor.tenant_id),
        sorts=SORT_LABELS,
        views=views,
        view_counts=view_counts(session, me.actor, views, filter_of_query),
        density=density_of(session, me.actor),
        tag_names=[r[1] for r in tag_usage(session, me.actor, limit=200)],
        **ctx,
    )


@router.post("/queue/bulk", response_model=None)
def bulk(
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    ids: Annotated[list[int], Form()] = [],  # noqa: B006
    action: Annotated[
        str,
        Form(pattern="^(assign|close|set_priority|set_status|set_group|add_tag|remove_tag)$"),
    ] = "close",
    assigned_to: Annotated[str, Form(max_length=12)] = "",
    group_id: Annotated[str, Form(max_length=12)] = "",
    priority: Annotated[str, Form(max_length=20)] = "",
    status: Annotated[str, Form(max_length=20)] = "",
    tag: Annotated[str, Form(max_length=100)] = "",
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Assign, close, move to a group, set the priority or status of, or add or remove a tag
    on the selected tickets."""
    staff_only(me)
    to = "/queue" + ("?" + back if back and not back.startswith(("/", "?")) else "")
    changes = Changes()
    if action == "assign":
        changes.assigned_to = int(assigned_to) if assigned_to.isdigit() else None
    elif action == "set_group":
        changes.group_id = int(group_id) if group_id.isdigit() else None
    elif action == "close":
        changes.status = "Closed"
    elif action == "set_priority":
        changes.priority = priority
    else:
        changes.status = status
    try:
        if not ids:
            raise Invalid("select at least one ticket", field="ids")
        if action in ("add_tag", "remove_tag"):
            results = bulk_tag(session, me.actor, ids, tag, remove=action == "remove_tag")
        else:
            results = bulk_update(session, me.actor, ids, changes)
    except HubError as exc:
        session.rollback()
        return redirect(to, flash=exc.message, error=True)
    session.commit()
    hub.kick()
    ok = sum(1 for r in results if r["ok"])
    failed = [f"#{r['id']}: {r['error']}" for r in results if not r["ok"]]
    parts: list[FlashPart] = [
        (N_("%(ok)s of %(all)s tickets updated."), {"ok": ok, "all": len(results)})
    ]
    if failed:
        parts.append((N_("Not changed: %(list)s"), {"list": "; ".join(failed[:5])}))
    return redirect(to, flash=parts, error=bool(failed))


@router.post("/queue/views", response_model=None)
def save_view(
    me: PostUser,
    session: SessionDep,
    name: Annotated[str, Form(max_length=80)] = "",
    query: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Keep the current filters under a name, for this agent."""
    staff_only(me)
    if not name.strip():
        return redirect("/queue?" + query, flash=N_("Give the view a name."), error=True)
    session.add(
        SavedView(
            tenant_id=me.actor.tenant_id,
            user_id=me.actor.user_id,
            name=name.strip(),
            query=query.lstrip("?"),
        )
    )
    session.commit()
    return redirect(
        "/queue?" + query, flash=N_("View “%(name)s” saved."), args={"name": name.strip()}
    )


@router.post("/queue/views/{view_id}/delete", response_model=None)
def delete_view(view_id: RowId, me: PostUser, session: SessionDep) -> Response:
    """Forget a saved view (only one's own)."""
    staff_only(me)
    session.execute(
        delete(SavedView).where(
            SavedView.id == view_id,
            SavedView.tenant_id == me.actor.tenant_id,
            SavedView.user_id == me.actor.user_id,
        )
    )
    session.commit()
    return redirect("/queue", flash=N_("View deleted."))
