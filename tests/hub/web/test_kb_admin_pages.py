"""Knowledge-base authoring in the console: write with a live preview, refused values kept in
their field, publish, edit, history with a diff, restore, delete; staff only."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.models import KbArticle, KbRevision
from tests.hub.web.conftest import sign_in

FORM = {
    "title": "Connect to the VPN",
    "body": "1. Install the client\n2. Sign in with your **work** account",
    "category": "Network",
    "tags": "vpn, remote",
    "status": "draft",
    "visibility": "public",
}


def _new(web, **kw):  # type: ignore[no-untyped-def]
    web.page("/admin/kb/new")
    answer = web.post("/admin/kb/new", {**FORM, **kw})
    assert answer.status_code == 303, answer.text[:500]
    return int(answer.headers["location"].rsplit("/", 1)[1])


def test_write_publish_edit_restore_and_delete(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    agent = sign_in(app, web_org["agent"].email)
    article_id = _new(agent)
    editor = agent.page(f"/admin/kb/{article_id}")
    assert "Connect to the VPN" in editor and "<strong>work</strong>" in editor  # the preview
    # A draft is in the list, not in the help centre.
    assert "Connect to the VPN" in agent.page("/admin/kb?status=draft")
    assert "Connect to the VPN" not in agent.page("/kb")

    saved = agent.post(
        f"/admin/kb/{article_id}",
        {**FORM, "status": "published", "body": FORM["body"] + "\n3. Choose the Berlin gateway"},
    )
    assert saved.status_code == 303
    assert "Connect to the VPN" in agent.page("/kb/sections/Network")

    history = agent.page(f"/admin/kb/{article_id}/history")
    assert "Added: </span>+ 3. Choose the Berlin gateway" in history
    assert "Version 2 compared with version 1" in history
    restored = agent.post(f"/admin/kb/{article_id}/restore", {"version": "1"})
    assert restored.status_code == 303
    with hub.session() as s:
        article = s.get(KbArticle, article_id)
        assert article is not None
        assert article.version == 3 and article.status == "draft"
        assert "Berlin" not in article.body
        versions = s.scalars(
            select(KbRevision.version).where(KbRevision.article_id == article_id)
        ).all()
    assert sorted(versions) == [1, 2, 3]

    agent.page(f"/admin/kb/{article_id}")
    unconfirmed = agent.post(f"/admin/kb/{article_id}/delete", {})
    assert unconfirmed.status_code == 303
    assert agent.client.get(f"/admin/kb/{article_id}").status_code == 200
    agent.page(f"/admin/kb/{article_id}")
    assert agent.post(f"/admin/kb/{article_id}/delete", {"confirm": "yes"}).status_code == 303
    assert agent.client.get(f"/admin/kb/{article_id}").status_code == 404


def test_a_refused_value_stays_in_its_field(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    admin = sign_in(app, web_org["admin"].email)
    admin.page("/admin/kb/new")
    body = "A long answer the author does not want to type again."
    answer = admin.post("/admin/kb/new", {**FORM, "title": "   ", "body": body})
    assert answer.status_code == 422
    assert body in answer.text and "title must not be empty" in answer.text
    assert re.search(r'id="a-title"[^>]*aria-invalid="true"', answer.text)
    tags = ", ".join(f"t{i}" for i in range(25))
    answer = admin.post("/admin/kb/new", {**FORM, "tags": tags})
    assert answer.status_code == 422 and "at most 20 tags" in answer.text and tags in answer.text
    with hub.session() as s:
        assert s.scalar(select(KbArticle.id)) is None


def test_live_preview_renders_safe_markdown(app, web_org) -> None:  # type: ignore[no-untyped-def]
    agent = sign_in(app, web_org["agent"].email)
    agent.page("/admin/kb/new")
    answer = agent.post("/admin/kb/preview", {"body": "# Title\n<script>alert(1)</script> *ok*"})
    assert answer.status_code == 200
    assert "<h1>Title</h1>" in answer.text and "<em>ok</em>" in answer.text
    assert "<script>" not in answer.text


def test_authoring_is_for_staff_of_the_tenant(app, web_org, make_tenant, make_member) -> None:  # type: ignore[no-untyped-def]
    agent = sign_in(app, web_org["agent"].email)
    article_id = _new(agent)
    for role in ("end_user", "manager"):
        web = sign_in(app, web_org[role].email)
        for url in ("/admin/kb", "/admin/kb/new", f"/admin/kb/{article_id}"):
            assert web.client.get(url).status_code == 404, (role, url)
        web.page("/notifications")
        assert web.post(f"/admin/kb/{article_id}", FORM).status_code == 404
    other = make_member(make_tenant(), "admin", password="correct horse battery staple")
    web = sign_in(app, other.email)
    assert web.client.get(f"/admin/kb/{article_id}").status_code == 404
    web.page("/admin/kb")
    assert web.post(f"/admin/kb/{article_id}/delete", {"confirm": "yes"}).status_code == 404
    assert web.post(f"/admin/kb/{article_id}/restore", {"version": "1"}).status_code == 404
    # Forged (no CSRF token): refused before anything runs.
    forged = agent.client.post(f"/admin/kb/{article_id}/delete", data={"confirm": "yes"})
    assert forged.status_code == 403
    assert agent.client.get(f"/admin/kb/{article_id}").status_code == 200
