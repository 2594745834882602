"""The help centre: browse the published articles by section, search them, read each at its
stable address (``/kb/articles/<id>``, the URL every suggestion links to) and say whether it
helped.

Signed-in people read their tenant's articles (staff also the agents-only ones). People who are
not signed in read the public articles of a tenant whose help centre is public (the default):
the tenant comes from the article itself, or from ``?tenant=<slug>`` on the section pages.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Forbidden, HubError, NotFound
from core.kb import help_centre
from core.kb.articles import AGENT_AUDIENCE, PUBLIC, excerpt
from core.kb.search import rank
from core.models import KbArticle, Tenant
from hub.api.deps import (
    CSRF_HEADER,
    SESSION_COOKIE,
    HubDep,
    SessionDep,
    read_session_cookie,
    session_csrf,
)
from hub.web.i18n import N_
from hub.web.render import redirect, render
from hub.web.session import SignInRequired, WebUser, page_user

router = APIRouter()
VOTER_COOKIE = "hub_kb_voter"
KB_CSRF_COOKIE = "hub_kb_csrf"
PAGE_SIZE = 50
ArticleId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@dataclass(frozen=True)
class Reader:
    """Who reads: the signed-in person (or None), the tenant shown, and what they may see."""

    me: WebUser | None
    tenant: Tenant
    audience: str

    @property
    def query(self) -> str:
        """What links within the help centre carry for a reader who is not signed in."""
        return "" if self.me else f"?tenant={quote(self.tenant.slug)}"


def _signed_in(request: Request, hub: HubDep, session: Session) -> WebUser | None:
    try:
        return page_user(request, hub, session)
    except (SignInRequired, HubError):
        return None


def _reader(request: Request, hub: HubDep, session: Session, slug: str) -> Reader:
    """The reader of a section page: signed in (their tenant), or anonymous on a public help
    centre named by ``?tenant=``; otherwise the sign-in page."""
    me = _signed_in(request, hub, session)
    if me is not None and (not slug or slug == me.tenant_slug):
        tenant = session.get(Tenant, me.actor.tenant_id)
        assert tenant is not None
        return Reader(me, tenant, AGENT_AUDIENCE if me.reads_all else PUBLIC)
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug)) if slug else None
    if tenant is None or not help_centre.is_public(session, tenant.id):
        if me is not None:
            raise NotFound("page not found")
        raise SignInRequired()
    return Reader(None, tenant, PUBLIC)


def _form_token(request: Request, reader: Reader) -> tuple[str, str | None]:
    """The CSRF token of the feedback form: the session's for a signed-in reader, else a
    double-submit cookie (returned second when it must be set)."""
    if reader.me is not None:
        return reader.me.csrf, None
    token = request.cookies.get(KB_CSRF_COOKIE)
    return (token, None) if token else (new := secrets.token_urlsafe(24), new)


def _page(
    request: Request, session: Session, reader: Reader, template: str, **ctx: Any
) -> HTMLResponse:
    token, new_cookie = _form_token(request, reader)
    response = render(request, session, reader.me, template, reader=reader, csrf=token, **ctx)
    if new_cookie:
        response.set_cookie(
            KB_CSRF_COOKIE, new_cookie, httponly=True, samesite="strict", max_age=3600
        )
    return response


@router.get("/kb", response_class=HTMLResponse)
def home(
    request: Request,
    session: SessionDep,
    hub: HubDep,
    tenant: Annotated[str, Query(max_length=63)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    """The help centre's front page: a search box and every section; or the search results."""
    reader = _reader(request, hub, session, tenant)
    query = q.strip()
    results = []
    if query:
        found = rank(session, reader.tenant.id, query, limit=20, audience=reader.audience)
        results = [(i, title, excerpt(body)) for i, title, body, _ in found]
    return _page(
        request,
        session,
        reader,
        "kb/home.html",
        sections=[] if query else help_centre.sections(session, reader.tenant.id, reader.audience),
        q=query,
        results=results,
    )


@router.get("/kb/sections/{name}", response_class=HTMLResponse)
def section(
    request: Request,
    session: SessionDep,
    hub: HubDep,
    name: Annotated[str, Path(max_length=50)],
    tenant: Annotated[str, Query(max_length=63)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """One section's articles, by title."""
    reader = _reader(request, hub, session, tenant)
    rows, total = help_centre.section_articles(
        session,
        reader.tenant.id,
        reader.audience,
        name,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    if not rows and page == 1:
        raise NotFound("no such section")
    return _page(
        request,
        session,
        reader,
        "kb/section.html",
        section_name=name,
        articles=[(a, excerpt(a.body_text)) for a in rows],
        page=page,
        more=page * PAGE_SIZE < total,
        total=total,
    )


def _article_reader(
    request: Request, hub: HubDep, session: Session, article_id: int
) -> tuple[Reader, KbArticle]:
    """The reader and the article: a signed-in person reads their tenant's; anyone else (not
    signed in, or signed in to another tenant) reads it as the public would."""
    me = _signed_in(request, hub, session)
    if me is not None:
        audience = AGENT_AUDIENCE if me.reads_all else PUBLIC
        try:
            found = help_centre.article(session, article_id, audience, me.actor.tenant_id)
        except NotFound:
            pass
        else:
            tenant = session.get(Tenant, me.actor.tenant_id)
            assert tenant is not None
            return Reader(me, tenant, audience), found
    try:
        found = help_centre.article(session, article_id, PUBLIC, None)
    except NotFound:
        if me is None:
            raise SignInRequired() from None  # perhaps a help centre for signed-in people
        raise
    tenant = session.get(Tenant, found.tenant_id)
    assert tenant is not None
    return Reader(me if me and me.actor.tenant_id == tenant.id else None, tenant, PUBLIC), found


@router.get("/kb/articles/{article_id}", response_class=HTMLResponse)
def article(
    request: Request, session: SessionDep, hub: HubDep, article_id: ArticleId
) -> HTMLResponse:
    """An article at its stable address."""
    reader, found = _article_reader(request, hub, session, article_id)
    return _page(
        request,
        session,
        reader,
        "kb/article.html",
        article=found,
        voted=request.query_params.get("voted", ""),
    )


async def _feedback_csrf(request: Request, hub: HubDep) -> None:
    """The feedback form's CSRF check: the token must be the session's (a signed-in reader) or
    the double-submit cookie's (a reader who is not signed in)."""
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        sent = str((await request.form()).get("csrf_token", ""))
    expected = [request.cookies.get(KB_CSRF_COOKIE, "")]
    cookie = request.cookies.get(SESSION_COOKIE)
    sid = read_session_cookie(hub, cookie) if cookie else None
    if sid:
        expected.append(session_csrf(hub, sid))
    if not sent or not any(e and secrets.compare_digest(sent, e) for e in expected):
        raise Forbidden("the form has expired or its CSRF token is wrong; reload the page")


@router.post("/kb/articles/{article_id}/feedback", response_model=None)
def feedback(
    request: Request,
    session: SessionDep,
    hub: HubDep,
    article_id: ArticleId,
    helpful: Annotated[str, Form(pattern="^(yes|no)$")],
    _csrf: Annotated[None, Depends(_feedback_csrf)],
) -> Response:
    """Count "Was this helpful?" once per reader (a second answer replaces the first)."""
    reader, found = _article_reader(request, hub, session, article_id)
    new_voter = None
    if reader.me is not None:
        voter = f"u{reader.me.actor.user_id}"
    else:
        voter = request.cookies.get(VOTER_COOKIE) or ""
        if not voter.startswith("a") or len(voter) > 40:
            voter = new_voter = f"a{uuid.uuid4().hex}"
    help_centre.record_feedback(
        session,
        reader.tenant.id,
        found.id,
        voter=voter,
        helpful=helpful == "yes",
        audience=reader.audience,
    )
    session.commit()
    response = redirect(
        f"/kb/articles/{article_id}?voted={helpful}#feedback",
        flash=N_("Thank you for your answer."),
    )
    if new_voter:
        response.set_cookie(
            VOTER_COOKIE, new_voter, httponly=True, samesite="lax", max_age=365 * 24 * 3600
        )
    return response
