"""/admin/quarantine: admins see held files with their signature, file and ticket, release or
delete them (audited), and choose what happens when the scanner is down; the ticket page shows
the file as held, with no link to it."""

from __future__ import annotations

from sqlalchemy import select

from core.models import Attachment, Audit
from hub.context import Hub
from tests.hub.web.conftest import sign_in
from tests.hub.web.samples import held_file

T = "/api/v1/support/tickets/"
NEW = {"subject": "Router logs", "description": "attached", "category": "Other"}


def test_admin_reviews_releases_and_deletes(
    app, hub: Hub, web_org, make_tenant, make_member
) -> None:  # type: ignore[no-untyped-def]
    tid, one = held_file(hub, web_org["end_user"])
    _, two = held_file(hub, web_org["end_user"], "second.txt", tid)
    admin = sign_in(app, web_org["admin"].email)
    page = admin.page("/admin/quarantine")
    assert "report.txt" in page and "Hub.Test.Sig" in page and f"/tickets/{tid}" in page
    # The ticket page says the file is held and links nowhere to its bytes.
    requester = sign_in(app, web_org["end_user"].email)
    ticket = requester.page(f"/tickets/{tid}")
    assert "Held" in ticket and "report.txt" in ticket
    assert f"/attachments/{one}/" not in ticket and "Hub.Test.Sig" not in ticket
    # Agents have no such page; another tenant's admin cannot reach these files.
    agent = sign_in(app, web_org["agent"].email)
    assert agent.client.get("/admin/quarantine").status_code == 404
    stranger = make_member(make_tenant(), "admin", password="correct horse battery staple")
    theirs = sign_in(app, stranger.email)
    theirs.page("/admin/quarantine")
    r = theirs.post(f"/admin/quarantine/{one}/release")
    assert r.status_code == 303
    assert "not found" in theirs.client.get("/admin/quarantine").text
    # Release: downloadable again. Delete: gone, row and bytes.
    admin.page("/admin/quarantine")
    assert admin.post(f"/admin/quarantine/{one}/release").status_code == 303
    assert "was released" in admin.page("/admin/quarantine")
    got = web_org["end_user"].get(f"{T}{tid}/attachments/{one}/")
    assert got.status_code == 200 and got.content == b"bytes"
    with hub.session() as s:
        key = s.get(Attachment, two).file_path
    assert admin.post(f"/admin/quarantine/{two}/delete").status_code == 303
    assert "second.txt was deleted" in admin.page("/admin/quarantine")
    with hub.session() as s:
        assert s.get(Attachment, two) is None
        actions = set(s.scalars(select(Audit.action).where(Audit.ticket_id == tid)))
    assert {"Attachment Released", "Attachment Deleted"} <= actions
    try:
        hub.blob_store.get(key)
        raise AssertionError("the deleted file's bytes are still stored")
    except FileNotFoundError:
        pass
    # The scanner-down policy; a bad value is refused with a message.
    assert admin.post("/admin/quarantine/policy", {"when_down": "hold"}).status_code == 303
    page = admin.page("/admin/quarantine")
    assert 'value="hold" checked' in page
    admin.post("/admin/quarantine/policy", {"when_down": "shrug"})
    assert "when_down must be one of" in admin.page("/admin/quarantine")


def test_console_reply_with_files_under_a_real_clamd(  # type: ignore[no-untyped-def]
    hub: Hub, settings, stoppable_clamd, web_org
) -> None:
    """A reply's infected file is held on the thread; with clamd stopped the reply is refused
    with the reason (the tenant's default) and nothing is stored."""
    from hub.app import create_app
    from hub.worker import periodic_tasks
    from tests.private_clamd import BODY_MARK

    scanning = Hub(
        settings.model_copy(update={"clamd_socket": stoppable_clamd.socket}),
        pm=hub.pm,
        engine=hub.engine,
    )
    assert "scan.rescan" in periodic_tasks(scanning)
    tid = web_org["end_user"].post(T, json=NEW).json()["id"]
    user = sign_in(create_app(scanning), web_org["end_user"].email)
    user.page(f"/tickets/{tid}")
    r = user.post(
        f"/tickets/{tid}/reply",
        {"comment": "logs"},
        files=[("files", ("bad.txt", BODY_MARK, "text/plain"))],
    )
    assert r.status_code == 303
    page = user.page(f"/tickets/{tid}")
    assert "bad.txt" in page and "quarantined by the malware scan" in page
    stoppable_clamd.stop()
    r = user.post(
        f"/tickets/{tid}/reply",
        {"comment": "more"},
        files=[("files", ("more.txt", b"fine", "text/plain"))],
    )
    # Refused on the page itself, the message and the file kept to send again.
    assert r.status_code == 503
    assert "scanner unavailable" in r.text and "more</textarea>" in r.text
    assert "more.txt" in r.text
    with hub.session() as s:
        names = s.scalars(select(Attachment.file_name).where(Attachment.ticket_id == tid)).all()
    assert names == ["bad.txt"]
