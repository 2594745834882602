"""Knowledge-base authoring pages (agents and admins): the article list, the Markdown editor with
a live preview, drafts and publishing, visibility, the revision history with a diff and restore,
and (admins) whether the help centre is open to people who are not signed in."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from core.errors import HubError
from core.kb import articles, help_centre
from core.models import KbArticle
from hub.api.deps import SessionDep
from hub.web.helpers import user_names
from hub.web.i18n import N_
from hub.web.render import form_failure, redirect, render
from hub.web.session import PageUser, PostUser, WebUser, admin_only, staff_only

router = APIRouter(prefix="/admin/kb")
ArticleId = Annotated[int, Path(ge=1, le=2**63 - 1)]
PAGE_SIZE = 50
Title = Annotated[str, Form(max_length=255)]
Body = Annotated[str, Form(max_length=200_000)]
Category = Annotated[str, Form(max_length=50)]
Tags = Annotated[str, Form(max_length=1100)]
Status = Annotated[str, Form(max_length=20)]
Visibility = Annotated[str, Form(max_length=20)]


def _sections(session: SessionDep, me: WebUser) -> list[str]:
    return list(
        session.scalars(
            select(KbArticle.category)
            .distinct()
            .where(KbArticle.tenant_id == me.actor.tenant_id)
            .order_by(KbArticle.category)
        )
    )


@router.get("", response_class=HTMLResponse)
def article_list(
    request: Request,
    me: PageUser,
    session: SessionDep,
    status: Annotated[str, Query(pattern="^(|draft|published)$")] = "",
    section: Annotated[str, Query(max_length=50)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """Every article of the tenant, drafts included, newest edit first, with its answers."""
    staff_only(me)
    rows, total = articles.list_articles(
        session,
        me.actor,
        category=section or None,
        status=status or None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render(
        request,
        session,
        me,
        "admin/kb_list.html",
        articles=rows,
        total=total,
        page=page,
        more=page * PAGE_SIZE < total,
        sel_status=status,
        sel_section=section,
        sections=_sections(session, me),
        feedback=help_centre.feedback_counts(session, me.actor.tenant_id, [a.id for a in rows]),
        public=help_centre.is_public(session, me.actor.tenant_id),
    )


def _editor(
    request: Request,
    session: SessionDep,
    me: WebUser,
    *,
    article: KbArticle | None,
    form: dict[str, Any],
    error: HubError | None = None,
) -> HTMLResponse:
    return render(
        request,
        session,
        me,
        "admin/kb_edit.html",
        **form_failure(error),
        article=article,
        form=form,
        sections=_sections(session, me),
        preview=articles.render_markdown(form.get("body", "")),
    )


def _form_of(article: KbArticle) -> dict[str, Any]:
    return {
        "title": article.title,
        "body": article.body,
        "category": article.category,
        "tags": ", ".join(article.tags or []),
        "status": article.status,
        "visibility": article.visibility,
    }


def _fields(
    title: str, body: str, category: str, tags: str, status: str, visibility: str
) -> articles.ArticleFields:
    return articles.ArticleFields(
        title=title,
        body=body,
        category=category or "General",
        tags=[t for t in tags.split(",") if t.strip()],
        status=status,
        visibility=visibility,
    )


@router.get("/new", response_class=HTMLResponse)
def new_form(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    """An empty editor (a new article starts as a draft)."""
    staff_only(me)
    form = {"status": "draft", "visibility": "public", "category": "General", "body": ""}
    return _editor(request, session, me, article=None, form=form)


@router.post("/new", response_model=None)
def create(
    request: Request,
    me: PostUser,
    session: SessionDep,
    title: Title = "",
    body: Body = "",
    category: Category = "",
    tags: Tags = "",
    status: Status = "draft",
    visibility: Visibility = "public",
) -> Response:
    """Save a new article; a refused value comes back in its field with the reason."""
    staff_only(me)
    form = dict(
        title=title, body=body, category=category, tags=tags, status=status, visibility=visibility
    )
    try:
        article = articles.create_article(session, me.actor, _fields(**form))
    except HubError as exc:
        session.rollback()
        return _editor(request, session, me, article=None, form=form, error=exc)
    session.commit()
    return redirect(
        f"/admin/kb/{article.id}",
        flash=N_("“%(title)s” saved as %(status)s."),
        args={"title": article.title, "status": article.status},
    )


@router.post("/preview", response_class=HTMLResponse)
def preview(request: Request, me: PostUser, session: SessionDep, body: Body = "") -> HTMLResponse:
    """The editor's live preview: the Markdown as readers will see it (an htmx fragment)."""
    staff_only(me)
    return render(
        request, session, me, "admin/_kb_preview.html", preview=articles.render_markdown(body)
    )


@router.post("/settings", response_model=None)
def settings(
    me: PostUser, session: SessionDep, public: Annotated[str, Form(max_length=3)] = ""
) -> Response:
    """Open the help centre to anyone, or only to signed-in people (admins)."""
    admin_only(me)
    help_centre.set_public(session, me.actor, public == "on")
    session.commit()
    text = (
        N_("The help centre is now open to anyone.")
        if public == "on"
        else N_("The help centre is now for signed-in people only.")
    )
    return redirect("/admin/kb", flash=text)


@router.get("/{article_id}", response_class=HTMLResponse)
def edit_form(
    request: Request, me: PageUser, session: SessionDep, article_id: ArticleId
) -> HTMLResponse:
    """The editor for one article."""
    staff_only(me)
    article = articles.get_article(session, me.actor, article_id)
    return _editor(request, session, me, article=article, form=_form_of(article))


@router.post("/{article_id}", response_model=None)
def save(
    request: Request,
    me: PostUser,
    session: SessionDep,
    article_id: ArticleId,
    title: Title = "",
    body: Body = "",
    category: Category = "",
    tags: Tags = "",
    status: Status = "draft",
    visibility: Visibility = "public",
) -> Response:
    """Save an edit (a new revision when something changed)."""
    staff_only(me)
    form = dict(
        title=title, body=body, category=category, tags=tags, status=status, visibility=visibility
    )
    try:
        article = articles.update_article(session, me.actor, article_id, _fields(**form))
    except HubError as exc:
        session.rollback()
        found = articles.get_article(session, me.actor, article_id)
        return _editor(request, session, me, article=found, form=form, error=exc)
    session.commit()
    return redirect(
        f"/admin/kb/{article.id}",
        flash=N_("“%(title)s” saved (version %(version)s)."),
        args={"title": article.title, "version": article.version},
    )


@router.post("/{article_id}/delete", response_model=None)
def delete(
    me: PostUser,
    session: SessionDep,
    article_id: ArticleId,
    confirm: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """Delete an article and its history, once the author ticked the confirmation."""
    staff_only(me)
    if confirm != "yes":
        return redirect(
            f"/admin/kb/{article_id}", flash=N_("Tick the box to confirm the deletion."), error=True
        )
    article = articles.get_article(session, me.actor, article_id)
    title = article.title
    articles.delete_article(session, me.actor, article_id)
    session.commit()
    return redirect("/admin/kb", flash=N_("“%(title)s” deleted."), args={"title": title})


@router.get("/{article_id}/history", response_class=HTMLResponse)
def history(
    request: Request,
    me: PageUser,
    session: SessionDep,
    article_id: ArticleId,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> HTMLResponse:
    """Every revision, and what one changed from the version before it."""
    staff_only(me)
    article = articles.get_article(session, me.actor, article_id)
    revs = articles.revisions(session, me.actor, article_id)
    by_version = {r.version: r for r in revs}
    shown = by_version.get(version or article.version) or (revs[-1] if revs else None)
    before = by_version.get(shown.version - 1) if shown else None
    diff = articles.body_diff(before.body if before else "", shown.body) if shown else []
    return render(
        request,
        session,
        me,
        "admin/kb_history.html",
        article=article,
        revisions=list(reversed(revs)),
        shown=shown,
        before=before,
        diff=diff,
        names=user_names(session, [r.edited_by for r in revs]),
    )


@router.post("/{article_id}/restore", response_model=None)
def restore(
    me: PostUser,
    session: SessionDep,
    article_id: ArticleId,
    version: Annotated[int, Form(ge=1, le=1_000_000)],
) -> Response:
    """Make an earlier version current again (as a new revision)."""
    staff_only(me)
    articles.get_article(session, me.actor, article_id)  # another tenant's id: 404
    try:
        article = articles.restore_revision(session, me.actor, article_id, version)
    except HubError as exc:
        session.rollback()
        return redirect(f"/admin/kb/{article_id}/history", flash=exc.message, error=True)
    session.commit()
    return redirect(
        f"/admin/kb/{article_id}/history",
        flash=N_("Version %(old)s restored as version %(new)s."),
        args={"old": version, "new": article.version},
    )
